"""One contract for every encoder (timm-style: one parametrized test covers every model):
(B, T, C) + mask -> (B, T, output_size); real steps ignore appended padding; causal ones ignore the
future; every parameter receives a gradient."""

import pytest
import torch

from seqzoo.layers.masking import mask_from_lengths
from seqzoo.models import GRU, LSTM, RNN, TCN, RNNDecoder, TCNDecoder, TransformerDecoder, TransformerEncoder

C = 5
ENCODERS = {
    "rnn": (lambda: RNN(C, 8, 2), True),
    "lstm-bidirectional": (lambda: LSTM(C, 8, 2, bidirectional=True), False),
    "gru-reference": (lambda: GRU(C, 8, 2, impl="reference"), True),
    "tcn-causal": (lambda: TCN(C, [8, 8], kernel_size=3), True),
    "tcn-centred": (lambda: TCN(C, [8, 8], kernel_size=3, causal=False), False),
    "transformer": (lambda: TransformerEncoder(C, 16, 4, 2, 32, dropout=0.0), False),
    "transformer-causal-postnorm": (lambda: TransformerEncoder(C, 16, 4, 2, 32, dropout=0.0, causal=True, norm_first=False), True),
}


def run(model, x, mask=None):
    out = model(x, mask)
    return out[0] if isinstance(out, tuple) else out


@pytest.mark.parametrize("name", ENCODERS)
def test_encoder_contract(name):
    make, causal = ENCODERS[name]
    torch.manual_seed(0)
    model = make().eval()
    x, mask = torch.randn(3, 9, C), mask_from_lengths(torch.tensor([9, 4, 6]), 9)
    out = run(model, x, mask)
    assert out.shape == (3, 9, model.output_size) and torch.isfinite(out).all()

    longer = torch.cat([x, 10 * torch.randn(3, 5, C)], 1)
    longer_mask = torch.cat([mask, torch.zeros(3, 5, dtype=torch.bool)], 1)
    torch.testing.assert_close(run(model, longer, longer_mask)[:, :9][mask], out[mask], atol=1e-5, rtol=1e-5)

    changed = x.clone()
    changed[:, 5:] = torch.randn(3, 4, C)
    same_past = torch.allclose(run(model, changed)[:, :5], run(model, x)[:, :5], atol=1e-6)
    assert same_past == causal, "causal models ignore the future; the others use it"

    model.train()
    run(model, x, mask).square().sum().backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or p.grad.abs().sum() == 0]
    assert not missing, f"no gradient reaches {missing}"


DECODERS = {
    "rnn-additive": lambda: RNNDecoder(C, 8, 2, cell="gru", attention="additive", memory_size=6),
    "rnn-general": lambda: RNNDecoder(C, 8, 1, cell="lstm", attention="general", memory_size=6),
    "tcn": lambda: TCNDecoder(C, [8, 8], condition_size=3, memory_size=6),
    "transformer": lambda: TransformerDecoder(C, 16, 4, 2, 32, dropout=0.0, memory_size=6),
}


@pytest.mark.parametrize("name", DECODERS)
def test_every_decoder_parameter_gets_a_gradient(name):
    torch.manual_seed(0)
    decoder = DECODERS[name]()
    kwargs = {"memory": torch.randn(2, 4, 6), "memory_mask": mask_from_lengths(torch.tensor([4, 2]), 4)}
    if name == "tcn":
        kwargs["condition"] = torch.randn(2, 3)
    decoder(torch.randn(2, 7, C), **kwargs).square().sum().backward()
    missing = [n for n, p in decoder.named_parameters() if p.grad is None or p.grad.abs().sum() == 0]
    assert not missing, f"no gradient reaches {missing}"
