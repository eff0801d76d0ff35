"""Mixed precision on the CPU (bf16 autocast, what ``trainer.precision=bf16-mixed`` runs): every family's
encoder trains a step with finite outputs and gradients, and every decoder steps. The GPU's 16-mixed and
bf16-mixed steps are in tests/test_cuda.py."""

import pytest
import torch
from torch.utils._pytree import tree_leaves

from seqzoo.layers.masking import mask_from_lengths
from seqzoo.models.interface import run_encoder
from tests.conftest import config_names, encoder_names, small_part


@pytest.mark.parametrize("masked", [True, False])
@pytest.mark.parametrize("family", encoder_names())
def test_every_encoder_trains_a_step_under_bf16_autocast(family, masked):
    """Masked and not, and with the final state as well: S4D's FFT and state contraction met bfloat16 tensors,
    which they have no kernels for, on the GPU (training) and here (the state)."""
    torch.manual_seed(0)
    enc = small_part("model", family)(input_size=5)
    x, mask = torch.randn(3, 11, 5), mask_from_lengths(torch.tensor([11, 6, 2]), 11) if masked else None
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = run_encoder(enc, x, mask)
        with torch.no_grad():
            state = enc(x, mask)[1]
    assert torch.isfinite(out).all()
    assert all(torch.isfinite(s).all() for s in tree_leaves(state))
    out.float().square().mean().backward()
    grads = [p.grad for p in enc.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)


@pytest.mark.parametrize("family", config_names("decoder"))
def test_every_decoder_steps_under_bf16_autocast(family):
    torch.manual_seed(0)
    dec = small_part("decoder", family)(input_size=5, memory_size=6, condition_size=4).eval()
    memory, memory_mask = torch.randn(2, 7, 6), mask_from_lengths(torch.tensor([7, 3]), 7)
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        state = dec.init_state(memory, memory_mask, torch.randn(2, 4))
        for _ in range(3):
            out, state = dec.step(torch.randn(2, 5), state)
    assert out.shape[0] == 2 and torch.isfinite(out).all()
