"""The selective scan with its hand-written backward equals the recurrence left to autograd: outputs, final
state and every gradient (x, dt, A, B, C, h0), across chunk boundaries, with a last chunk cut short, at step
sizes from 0 (a padded step) to large, and with a gradient flowing into the final state."""

from unittest.mock import patch

import pytest
import torch

from seqzoo.layers import selective_scan as module
from seqzoo.layers.selective_scan import selective_scan, selective_scan_reference
from tests.tolerance import assert_within


def inputs(T, regime, seed=0, E=5, N=3):
    g = torch.Generator().manual_seed(seed)
    x, B, C = (torch.randn(2, T, d, generator=g, dtype=torch.float64) for d in (E, N, N))
    dt = torch.rand(2, T, E, generator=g, dtype=torch.float64)
    if regime == "extremes":  # exactly 0 (padding), tiny, and steps that wipe the state
        dt = torch.where(dt < 0.3, torch.zeros_like(dt), torch.where(dt > 0.7, 20 * dt, 1e-6 * dt))
    A = -torch.rand(E, N, generator=g, dtype=torch.float64) * 4
    h0 = torch.randn(2, E, N, generator=g, dtype=torch.float64)
    return [t.requires_grad_() for t in (x, dt, A, B, C, h0)]


@pytest.mark.parametrize("parallel", [False, True], ids=["loop", "parallel"])  # parallel: the GPU's in-chunk scans
@pytest.mark.parametrize("T,chunk", [(1, 4), (7, 7), (37, 8), (64, 16), (300, 64)])
@pytest.mark.parametrize("regime", ["plain", "extremes"])
def test_values_and_gradients_equal_the_recurrence(T, chunk, regime, parallel):
    args = inputs(T, regime, seed=T)
    with patch.object(module, "PARALLEL_ELEMENTS", 1):  # keep the test's chunks, so that states cross chunk boundaries
        y, h = selective_scan(*args, chunk=chunk, parallel=parallel)
    y_ref, h_ref = selective_scan_reference(*args)
    depth, what = T + 3, f"selective scan, {regime}, T={T}, chunk={chunk}"  # T steps, then a sum over N = 3 states
    assert_within(y, y_ref, torch.float64, depth, what, both=True)
    assert_within(h, h_ref, torch.float64, depth, what + ": final state", both=True)
    g = torch.Generator().manual_seed(1)
    wy, wh = torch.randn(y.shape, generator=g, dtype=y.dtype), torch.randn(h.shape, generator=g, dtype=h.dtype)
    got = torch.autograd.grad((y * wy).sum() + (h * wh).sum(), args)
    want = torch.autograd.grad((y_ref * wy).sum() + (h_ref * wh).sum(), args)
    for name, a, b in zip(("x", "dt", "A", "B", "C", "h0"), got, want):
        assert_within(
            a, b, torch.float64, 2 * depth + 2 * T, f"{what}: d/d{name}", both=True
        )  # back, then summed over B x T


@pytest.mark.parametrize("parallel", [False, True], ids=["loop", "parallel"])
def test_gradcheck_and_an_unused_final_state(parallel):
    args = inputs(11, "plain", E=2, N=2)
    assert torch.autograd.gradcheck(lambda *a: selective_scan(*a, chunk=4, parallel=parallel), args)
    y, _ = selective_scan(*args, chunk=4)  # only y used: the final state's gradient arrives as None
    got = torch.autograd.grad(y.sum(), args)
    want = torch.autograd.grad(selective_scan_reference(*args)[0].sum(), args)
    for a, b in zip(got, want):
        assert_within(a, b, torch.float64, 2 * (11 + 2) + 2 * 11, "an unused final state: gradients", both=True)


def test_a_big_batch_gets_cache_sized_chunks_on_a_cpu_with_the_same_numbers():
    x, dt, A, B, C, h0 = inputs(40, "uniform")  # B x E x N = 30 numbers per step
    seen = []
    apply = module.SelectiveScan.apply
    with (
        patch.object(module.SelectiveScan, "apply", side_effect=lambda *a: seen.append(a[-2]) or apply(*a)),
        patch.object(module.time_blocks, "ELEMENTS", 300),
        patch.object(module, "MIN_CHUNK", 4),
    ):
        y, h = selective_scan(x, dt, A, B, C, h0, chunk=64)
        y_floor, _ = selective_scan(x, dt, A, B, C, h0, chunk=3)  # a chunk below the cap is kept
    assert seen == [10, 3]  # 300 // 30
    y_ref, h_ref = selective_scan_reference(x, dt, A, B, C, h0)
    for got, want, what in (
        (y, y_ref, "cache-sized chunks"),
        (h, h_ref, "cache-sized chunks: state"),
        (y_floor, y_ref, "chunks of 3"),
    ):
        assert_within(got, want, torch.float64, 40 + 3, what, both=True)


def test_off_a_cpu_the_chunks_are_long_and_scanned_in_parallel():
    """A GPU gets chunks of PARALLEL_ELEMENTS numbers with scans inside them (a launch per step left an H200 idle);
    the meta device stands in for it here."""
    args = [t.detach().to("meta") for t in inputs(40, "plain")]
    seen = []
    with (
        patch.object(module.SelectiveScan, "apply", side_effect=lambda *a: seen.append(a[-2:])),
        patch.object(module.torch, "is_autocast_enabled", return_value=False),
    ):  # autocast knows no meta device
        selective_scan(*args, chunk=64)
        selective_scan(*inputs(40, "plain"), chunk=64)
        with patch.object(module, "PARALLEL_ELEMENTS", 300):
            selective_scan(*args, chunk=4)
    # as long as the sequence, however many numbers a GPU chunk may hold; then 300 numbers // (2 x 5 x 3) per step
    assert seen == [(40, True), (40, False), (10, True)]
