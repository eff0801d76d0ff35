"""The chunked parallel scan equals the loop h_t = a_t h_{t-1} + b_t, values and gradients, at every length
and at the extremes of a (0, 1, tiny, close to 1)."""

from unittest.mock import patch

import pytest
import torch

from seqzoo.layers.linear_scan import chunked_scan, linear_recurrence_loop, linear_scan
from tests.tolerance import assert_within


@pytest.mark.parametrize("T", [1, 2, 3, 17, 257, 4096])
@pytest.mark.parametrize("regime", ["uniform", "extremes", "slow decay"])
def test_scan_equals_the_loop_values_and_gradients(T, regime):
    g = torch.Generator().manual_seed(T)
    a = torch.rand(2, T, 3, generator=g, dtype=torch.float64)
    if regime == "extremes":  # exactly 0 and 1, and 1e-30
        a = torch.where(
            a < 0.3, torch.zeros_like(a), torch.where(a > 0.7, torch.ones_like(a), torch.full_like(a, 1e-30))
        )
    elif regime == "slow decay":
        a = 1 - 1e-4 * a
    b, h0 = torch.randn(2, T, 3, generator=g, dtype=torch.float64), torch.randn(2, 3, generator=g, dtype=torch.float64)
    inputs = [t.requires_grad_() for t in (a, b, h0)]
    ref, out = linear_recurrence_loop(*inputs), linear_scan(*inputs)
    assert_within(out, ref, torch.float64, T, f"scan against loop, {regime}, T={T}", both=True)
    w = torch.randn(ref.shape, generator=g, dtype=torch.float64)
    for got, want in zip(torch.autograd.grad((out * w).sum(), inputs), torch.autograd.grad((ref * w).sum(), inputs)):
        assert_within(got, want, torch.float64, 2 * T, f"scan against loop, {regime}, T={T}: gradients", both=True)


def test_float32_scan_against_a_float64_loop_and_extra_dimensions():
    a, b = torch.rand(3, 1000, 4, 2), torch.randn(3, 1000, 4, 2)
    ref = linear_recurrence_loop(a.double(), b.double())
    assert_within(linear_scan(a, b), ref, torch.float32, 1000, "a float32 scan against a float64 loop")


def test_blocks_of_a_long_scan_carry_the_state_values_and_gradients():
    g = torch.Generator().manual_seed(0)
    a, b = (
        torch.rand(2, 1000, 3, generator=g, dtype=torch.float64),
        torch.randn(2, 1000, 3, generator=g, dtype=torch.float64),
    )
    h0 = torch.randn(2, 3, generator=g, dtype=torch.float64)
    ref = linear_recurrence_loop(a, b, h0)
    for block in (64, 999, 1000):  # blocks that divide T, one that leaves a single step, one block
        assert_within(chunked_scan(a, b, h0, block), ref, torch.float64, 1000, f"blocks of {block}", both=True)
    inputs = [t.requires_grad_() for t in (a, b, h0)]
    # the default block, through autograd (forward and backward)
    with (
        patch("seqzoo.layers.linear_scan.BLOCK", 128),
        patch("seqzoo.layers.linear_scan.chunked_scan", wraps=chunked_scan) as scans,
    ):
        out = linear_scan(*inputs)
        grads = torch.autograd.grad(out.square().sum(), inputs)
    assert scans.call_count == 2 * (1 + 8)  # forward and backward each: one call, then 7 blocks of 128 and one of 104
    ref = linear_recurrence_loop(*inputs)
    assert_within(out, ref, torch.float64, 1000, "the default block", both=True)
    for got, want in zip(grads, torch.autograd.grad(ref.square().sum(), inputs)):
        assert_within(got, want, torch.float64, 2000, "the default block: gradients", both=True)


def test_mismatched_shapes_are_refused():
    with pytest.raises(ValueError, match="one shape"):
        linear_scan(torch.rand(2, 5, 3), torch.rand(2, 5, 4))
