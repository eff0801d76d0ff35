"""Size a model's width to a parameter budget, so architectures are compared at equal size (as Bai et al.
2018 compare RNN, LSTM, GRU and TCN at about 70k parameters).

``fit_width(build, target)`` searches the integer width w (hidden size, channels, d_model ...) for which
``build(w)`` has the parameter count closest to ``target``; counts grow with width, so a bisection finds it.
"""

from collections.abc import Callable

from torch import nn


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def fit_width(build: Callable[[int], nn.Module], target: int, low: int = 1, high: int = 4096, step: int = 1) -> tuple[int, int]:
    """-> (width, parameter count) closest to ``target`` among multiples of ``step`` in [low, high]."""
    lo, hi = max(1, low // step), max(1, high // step)
    while lo < hi:  # the smallest multiple whose count reaches the target
        mid = (lo + hi) // 2
        if count_parameters(build(mid * step)) < target:
            lo = mid + 1
        else:
            hi = mid
    candidates = [w * step for w in {max(1, lo - 1), lo}]
    counts = {w: count_parameters(build(w)) for w in candidates}
    best = min(counts, key=lambda w: abs(counts[w] - target))
    return best, counts[best]
