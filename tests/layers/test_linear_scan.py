"""The chunked parallel scan equals the loop h_t = a_t h_{t-1} + b_t, values and gradients, at every length
and at the extremes of a (0, 1, tiny, close to 1)."""

from unittest.mock import patch

import pytest
import torch

from seqzoo.layers.linear_scan import chunked_scan, linear_recurrence_loop, linear_scan


@pytest.mark.parametrize("T", [1, 2, 3, 17, 257, 4096])
@pytest.mark.parametrize("regime", ["uniform", "extremes", "slow decay"])
def test_scan_equals_the_loop_values_and_gradients(T, regime):
    g = torch.Generator().manual_seed(T)
    a = torch.rand(2, T, 3, generator=g, dtype=torch.float64)
    if regime == "extremes":  # exactly 0 and 1, and 1e-30
        a = torch.where(a < 0.3, torch.zeros_like(a), torch.where(a > 0.7, torch.ones_like(a), torch.full_like(a, 1e-30)))
    elif regime == "slow decay":
        a = 1 - 1e-4 * a
    b, h0 = torch.randn(2, T, 3, generator=g, dtype=torch.float64), torch.randn(2, 3, generator=g, dtype=torch.float64)
    inputs = [t.requires_grad_() for t in (a, b, h0)]
    ref, out = linear_recurrence_loop(*inputs), linear_scan(*inputs)
    torch.testing.assert_close(out, ref, atol=1e-10, rtol=1e-10)
    w = torch.randn(ref.shape, generator=g, dtype=torch.float64)
    for got, want in zip(torch.autograd.grad((out * w).sum(), inputs), torch.autograd.grad((ref * w).sum(), inputs)):
        torch.testing.assert_close(got, want, atol=1e-9, rtol=1e-9)


def test_float32_scan_against_a_float64_loop_and_extra_dimensions():
    a, b = torch.rand(3, 1000, 4, 2), torch.randn(3, 1000, 4, 2)
    ref = linear_recurrence_loop(a.double(), b.double())
    torch.testing.assert_close(linear_scan(a, b).double(), ref, atol=1e-5, rtol=1e-5)


def test_blocks_of_a_long_scan_carry_the_state_values_and_gradients():
    g = torch.Generator().manual_seed(0)
    a, b = torch.rand(2, 1000, 3, generator=g, dtype=torch.float64), torch.randn(2, 1000, 3, generator=g, dtype=torch.float64)
    h0 = torch.randn(2, 3, generator=g, dtype=torch.float64)
    ref = linear_recurrence_loop(a, b, h0)
    for block in (64, 999, 1000):  # blocks that divide T, one that leaves a single step, one block
        torch.testing.assert_close(chunked_scan(a, b, h0, block), ref, atol=1e-10, rtol=1e-10)
    inputs = [t.requires_grad_() for t in (a, b, h0)]
    # the default block, through autograd (forward and backward)
    with patch("seqzoo.layers.linear_scan.BLOCK", 128), \
            patch("seqzoo.layers.linear_scan.chunked_scan", wraps=chunked_scan) as scans:
        out = linear_scan(*inputs)
        grads = torch.autograd.grad(out.square().sum(), inputs)
    assert scans.call_count == 2 * (1 + 8)  # forward and backward each: one call, then 7 blocks of 128 and one of 104
    ref = linear_recurrence_loop(*inputs)
    torch.testing.assert_close(out, ref, atol=1e-10, rtol=1e-10)
    for got, want in zip(grads, torch.autograd.grad(ref.square().sum(), inputs)):
        torch.testing.assert_close(got, want, atol=1e-9, rtol=1e-9)


def test_mismatched_shapes_are_refused():
    with pytest.raises(ValueError, match="one shape"):
        linear_scan(torch.rand(2, 5, 3), torch.rand(2, 5, 4))
