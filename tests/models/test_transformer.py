import pytest
import torch
from torch import nn

from seqzoo.layers.masking import mask_from_lengths
from seqzoo.models.transformer import EncoderLayer, TransformerDecoder, TransformerEncoder, copy_torch_encoder_layer
from tests.tolerance import assert_within, chain_depth

D, HEADS, FF = 16, 4, 32


@pytest.mark.parametrize("activation", ["relu", "gelu"])
@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("causal", [False, True])
def test_encoder_layer_matches_torch(activation, norm_first, causal):
    torch.manual_seed(0)
    ref = nn.TransformerEncoderLayer(
        D, HEADS, FF, dropout=0.0, activation=activation, batch_first=True, norm_first=norm_first
    )
    ours = EncoderLayer(D, HEADS, FF, dropout=0.0, activation=activation, norm_first=norm_first)
    copy_torch_encoder_layer(ours, ref)
    x, mask = torch.randn(3, 6, D), mask_from_lengths(torch.tensor([6, 4, 2]), 6)
    causal_mask = nn.Transformer.generate_square_subsequent_mask(6) if causal else None
    ref.train()  # keep torch off its nested-tensor fast path, which zeroes padded rows
    expected = ref(x, src_mask=causal_mask, src_key_padding_mask=~mask, is_causal=causal)
    got = ours(x, mask, causal=causal)
    assert_within(
        got[mask], expected[mask], torch.float32, chain_depth(ours, 6), "ours against torch's encoder layer", both=True
    )


@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_padding_and_causality(norm_first):
    torch.manual_seed(0)
    enc = TransformerEncoder(5, D, HEADS, 2, FF, dropout=0.0, norm_first=norm_first, causal=True).eval()
    x, mask = torch.randn(2, 6, 5), mask_from_lengths(torch.tensor([6, 3]), 6)
    longer = torch.cat([x, torch.randn(2, 4, 5)], 1)
    longer_mask = torch.cat([mask, torch.zeros(2, 4, dtype=torch.bool)], 1)
    depth = chain_depth(enc, 10)
    assert_within(
        enc(longer, longer_mask)[:, :6][mask],
        enc(x, mask)[mask],
        torch.float32,
        depth,
        "real steps with more padding",
        both=True,
    )
    changed = x.clone()
    changed[:, 3:] += 1
    assert_within(enc(changed)[:, :3], enc(x)[:, :3], torch.float32, depth, "causal steps before a change", both=True)


@pytest.mark.parametrize("with_memory", [False, True])
@pytest.mark.parametrize("positional", ["sinusoidal", "learned"])
def test_decoder_step_equals_forward(with_memory, positional):
    torch.manual_seed(0)
    dec = TransformerDecoder(7, D, HEADS, 2, FF, dropout=0.0, memory_size=12, positional_encoding=positional).eval()
    x = torch.randn(3, 5, 7)
    memory = torch.randn(3, 4, 12) if with_memory else None
    memory_mask = mask_from_lengths(torch.tensor([4, 2, 3]), 4) if with_memory else None
    full = dec(x, memory, memory_mask)
    state = dec.init_state(memory, memory_mask)
    steps = []
    for t in range(5):
        out, state = dec.step(x[:, t], state)
        steps.append(out)
    assert_within(
        torch.stack(steps, 1), full, torch.float32, chain_depth(dec, 5), "Transformer step against forward", both=True
    )


def test_positions_beyond_max_len_are_an_error():
    enc = TransformerEncoder(3, D, HEADS, 1, FF, max_len=8)
    with pytest.raises(ValueError, match="max_len=8"):
        enc(torch.randn(1, 9, 3))
