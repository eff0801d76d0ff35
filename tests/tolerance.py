"""Where every numeric tolerance of the suite comes from: a rounding bound, never one machine's measurement.

A result computed through ``depth`` sequential roundings, each of relative size at most the unit roundoff
u (2^-24 in float32, 2^-53 in float64), on terms of size ``scale``, differs from the exact result by at most

    C * depth * u * scale        (Higham, Accuracy and Stability of Numerical Algorithms, 2nd ed., ch. 3:
                                  |fl(sum x_i) - sum x_i| <= gamma_n * sum |x_i|, gamma_n = n u / (1 - n u))

- ``depth`` is what the computation chains: n for a loop over n steps or a sum of n terms, log2(n) for an
  FFT or a tree scan of length n, plus the width of the widest inner product; times the layers stacked.
- ``scale`` is measured on the test's own data: the largest magnitude of the float64 reference, and at least
  1, because the terms that are summed (unit-variance inputs times weights, gates in [0, 1], normalised
  activations) are of that size even where the result cancels to something smaller.
- ``C = 16`` covers the handful of roundings per step and element (a multiply, an add, a gate, a
  nonlinearity implemented within a few ulps) that the count of steps leaves out.

Two computations in the same precision (a fast path and a readable one, compiled and eager, ONNX Runtime and
torch) are each within the bound of the exact result, so within twice it of each other: ``both=True``.

A failure reads as one line: which tolerance, the largest difference, the bound, so that ``make test-latest``
names what a new release moved.
"""

import math
import os

import torch

C = 16


def unit_roundoff(dtype: torch.dtype) -> float:
    return torch.finfo(dtype).eps / 2


def fft_depth(n: int) -> float:
    """An FFT convolution of length n: a forward and an inverse transform of the padded length 2n."""
    return 2 * math.log2(2 * max(n, 1)) + 1


def chain_depth(model: torch.nn.Module, steps: int) -> int:
    """A module's chain, for a bound that holds for any family: ``steps`` (a recurrence, a scan or a sum over
    time) plus the fan-in of every weight matrix it holds (the inner product each output sums; matrices side
    by side are counted as if chained, which only loosens the bound)."""
    return steps + sum(p[0].numel() for p in model.parameters() if p.dim() >= 2)


def bound(want, dtype: torch.dtype, depth: float, both: bool = False, scale: float | None = None) -> float:
    """C * depth * u(dtype) * scale, with ``scale`` from ``want`` (the float64 reference) unless given."""
    if scale is None:
        scale = (
            max(1.0, float(torch.as_tensor(want).detach().double().abs().max()))
            if torch.as_tensor(want).numel()
            else 1.0
        )
    return (2 if both else 1) * C * depth * unit_roundoff(dtype) * scale


def assert_within(
    got, want, dtype: torch.dtype, depth: float, what: str, both: bool = False, scale: float | None = None
) -> None:
    """|got - want| <= the rounding bound everywhere; one line naming the tolerance when not."""
    got, want = torch.as_tensor(got).detach().double(), torch.as_tensor(want).detach().double()
    assert got.shape == want.shape, f"{what}: shapes {tuple(got.shape)} and {tuple(want.shape)}"
    tol = bound(want, dtype, depth, both, scale)
    worst = float((got - want).abs().max()) if got.numel() else 0.0
    if os.environ.get("TOLERANCE_REPORT"):  # a file to append "difference / bound: what" to: how much margin each has
        with open(os.environ["TOLERANCE_REPORT"], "a") as f:
            f.write(f"{worst / tol:.2e}\t{worst:.2e}\t{tol:.2e}\t{what}\n")
    assert worst <= tol and not got.isnan().any(), (
        f"tolerance broken: {what}: largest difference {worst:.3g} > bound {tol:.3g} "
        f"({'2 x ' if both else ''}{C} x depth {depth:g} x u({str(dtype).removeprefix('torch.')}) x scale)"
    )
