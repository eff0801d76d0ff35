"""Our RNN, LSTM and GRU against torch.nn: same parameters, same outputs and gradients, masks as packing."""

import itertools

import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from seqzoo.layers.masking import mask_from_lengths
from seqzoo.models import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
from tests.tolerance import assert_within

FAMILIES = [(RNN, nn.RNN, {}), (RNN, nn.RNN, {"nonlinearity": "relu"}), (LSTM, nn.LSTM, {}), (GRU, nn.GRU, {})]
IDS = ["rnn_tanh", "rnn_relu", "lstm", "gru"]
B, T, C, H = 4, 7, 5, 6
LENGTHS = torch.tensor([7, 3, 5, 1])


def torch_run(ref: nn.Module, x, lengths, state):
    """torch.nn on a packed batch (or the plain batch without lengths): the numbers we must reproduce."""
    if lengths is None:
        return ref(x, state)
    out, final = ref(pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False), state)
    return pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])[0], final


def depth(layers: int) -> int:
    """Per layer: T steps of the recurrence, each an inner product over the input and the hidden state."""
    return layers * T * (C + H)


def flat(state):
    return list(state) if isinstance(state, tuple) else [state]


@pytest.mark.parametrize("family", FAMILIES, ids=IDS)
@pytest.mark.parametrize("impl", ["reference", "fused"])
@pytest.mark.parametrize(
    "layers,bidirectional,masked,with_state", itertools.product([1, 2, 3], [False, True], [False, True], [False, True])
)
def test_matches_torch_outputs_and_gradients(family, impl, layers, bidirectional, masked, with_state):
    ours_cls, torch_cls, kw = family
    torch.manual_seed(0)
    ref = torch_cls(C, H, num_layers=layers, bidirectional=bidirectional, batch_first=True, **kw)
    ours = ours_cls(C, H, num_layers=layers, bidirectional=bidirectional, impl=impl, **kw)
    ours.load_state_dict(ref.state_dict())
    x = torch.randn(B, T, C)
    dirs = 2 if bidirectional else 1
    state = None
    if with_state:
        state = torch.randn(layers * dirs, B, H)
        state = (state, torch.randn_like(state)) if ours_cls is LSTM else state
    lengths = LENGTHS if masked else None
    mask = mask_from_lengths(LENGTHS, T) if masked else None

    x_ref, x_ours = x.clone().requires_grad_(), x.clone().requires_grad_()
    out_ref, st_ref = torch_run(ref, x_ref, lengths, state)
    out_ours, st_ours = ours(x_ours, mask, state)
    assert_within(out_ours, out_ref, torch.float32, depth(layers), "ours against torch.nn", both=True)
    for a, b in zip(flat(st_ours), flat(st_ref)):
        assert_within(a, b, torch.float32, depth(layers), "ours against torch.nn: final state", both=True)

    g = torch.randn_like(out_ref)
    ((out_ref * g).sum() + sum(s.sum() for s in flat(st_ref))).backward()
    ((out_ours * g).sum() + sum(s.sum() for s in flat(st_ours))).backward()
    backward = 2 * depth(layers) + B * T  # the chain back, then summed over the batch and the steps
    assert_within(x_ours.grad, x_ref.grad, torch.float32, backward, "ours against torch.nn: input gradient", both=True)
    ref_grads = dict(ref.named_parameters())
    for name, p in ours.named_parameters():
        assert_within(
            p.grad,
            ref_grads[name].grad,
            torch.float32,
            backward,
            f"ours against torch.nn: {name}'s gradient",
            both=True,
        )


@pytest.mark.parametrize("family", FAMILIES, ids=IDS)
def test_state_dict_moves_both_ways(family):
    ours_cls, torch_cls, kw = family
    ours = ours_cls(C, H, num_layers=2, bidirectional=True, bias=False, **kw)
    ref = torch_cls(C, H, num_layers=2, bidirectional=True, bias=False, batch_first=True, **kw)
    assert {k: v.shape for k, v in ours.state_dict().items()} == {k: v.shape for k, v in ref.state_dict().items()}
    ref.load_state_dict(ours.state_dict())  # seqzoo -> torch.nn
    x = torch.randn(B, T, C)
    assert_within(ours(x)[0], ref(x)[0], torch.float32, depth(2), "a state dict moved to torch.nn", both=True)


@pytest.mark.parametrize("family", FAMILIES, ids=IDS)
@pytest.mark.parametrize("impl", ["reference", "fused"])
def test_padding_does_not_change_real_steps(family, impl):
    ours_cls, _, kw = family
    torch.manual_seed(0)
    model = ours_cls(C, H, num_layers=2, bidirectional=True, impl=impl, **kw)
    x, mask = torch.randn(B, T, C), mask_from_lengths(LENGTHS, T)
    longer = torch.cat([x, 100 * torch.randn(B, 3, C)], dim=1)  # more padding, filled with junk
    longer_mask = torch.cat([mask, torch.zeros(B, 3, dtype=torch.bool)], dim=1)
    out, state = model(x, mask)
    out2, state2 = model(longer, longer_mask)
    assert_within(out2[:, :T], out, torch.float32, depth(2), "real steps with more padding", both=True)
    assert out2[~longer_mask].abs().max() == 0, "padded steps must output zeros"
    for a, b in zip(flat(state), flat(state2)):
        assert_within(a, b, torch.float32, depth(2), "the final state with more padding", both=True)


@pytest.mark.parametrize("family", FAMILIES, ids=IDS)
@pytest.mark.parametrize("impl", ["reference", "fused"])
def test_unidirectional_is_causal(family, impl):
    ours_cls, _, kw = family
    model = ours_cls(C, H, num_layers=2, impl=impl, **kw)
    x = torch.randn(B, T, C)
    changed = x.clone()
    changed[:, 4:] = torch.randn(B, T - 4, C)
    assert_within(
        model(x)[0][:, :4], model(changed)[0][:, :4], torch.float32, depth(2), "steps before the change", both=True
    )
    assert not torch.allclose(model(x)[0][:, 4:], model(changed)[0][:, 4:])


@pytest.mark.parametrize("cells", [(RNNCell, nn.RNNCell), (LSTMCell, nn.LSTMCell), (GRUCell, nn.GRUCell)])
def test_cells_match_torch(cells):
    ours_cls, torch_cls = cells
    ref = torch_cls(C, H)
    ours = ours_cls(C, H)
    ours.load_state_dict(ref.state_dict())
    x = torch.randn(B, C)
    for a, b in zip(flat(ours(x)), flat(ref(x))):
        assert_within(a, b, torch.float32, C + H, "a cell against torch.nn's", both=True)
    state = ours(x)
    for a, b in zip(flat(ours(x, state)), flat(ref(x, state))):
        assert_within(a, b, torch.float32, 2 * (C + H), "a cell's second step against torch.nn's", both=True)


def test_dropout_between_layers_only_in_training():
    model = LSTM(C, H, num_layers=2, dropout=0.5, impl="reference")
    x = torch.randn(B, T, C)
    model.eval()
    assert torch.equal(model(x)[0], model(x)[0])  # no dropout: the same operations twice, bit for bit
    model.train()
    assert not torch.allclose(model(x)[0], model(x)[0])


def test_bad_inputs_say_what_is_wrong():
    model = LSTM(C, H)
    with pytest.raises(ValueError, match=r"expects input \(B, T, 5\).*unsqueeze"):
        model(torch.randn(T, C))
    with pytest.raises(ValueError, match="right-padded"):
        model(torch.randn(2, 3, C), torch.tensor([[True, False, True], [True, True, True]]))
    with pytest.raises(ValueError, match="initial state"):
        model(torch.randn(2, 3, C), state=(torch.zeros(1, 3, H), torch.zeros(1, 3, H)))
    with pytest.raises(ValueError, match="batch first"):
        LSTM(C, H, batch_first=False)
