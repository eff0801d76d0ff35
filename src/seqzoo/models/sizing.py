"""Size a model's width to a parameter count (``model.target_params``), so architectures are compared at equal
size (as Bai et al. 2018 compare RNN, LSTM, GRU and TCN at about 70k parameters).

``fit_width(build, target)`` searches the integer width w (hidden size, channels, d_model ...) for which
``build(w)`` has the parameter count closest to ``target``; counts grow with width, so a bisection finds it.
``fit_family`` does it for any family through the width it declares, so no list of width names is kept.
"""

from collections.abc import Callable, Mapping, Sequence

from torch import nn

from seqzoo.errors import SeqzooError


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def fit_width(
    build: Callable[[int], nn.Module], target: int, low: int = 1, high: int = 4096, step: int = 1
) -> tuple[int, int]:
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


def width_value(family: type, config: Mapping, width: int):
    """The family's width argument set to ``width``: every level of a list-valued one (a TCN's channels)."""
    current = config.get(family.width.key)
    return [width] * len(current) if isinstance(current, Sequence) and not isinstance(current, str) else width


def fit_family(build: Callable[[dict], nn.Module], family: type, config: Mapping, target: int) -> tuple[dict, int]:
    """-> ({width argument: value}, parameter count) for the whole model ``build(overrides)`` closest to
    ``target``, moving only the width the family declares (``family.width``, ``models.interface.Width``)."""
    knob = getattr(family, "width", None)
    if knob is None:
        raise SeqzooError(
            f"{family.__name__} declares no width (a class attribute width = Width('<argument>')), so "
            "model.target_params cannot size it"
        )
    step = knob.step(config)
    width, count = fit_width(lambda w: build({knob.key: width_value(family, config, w)}), target, step=step)
    if abs(count - target) > 0.05 * target:
        raise SeqzooError(
            f"no {knob.key} gives {target} parameters within 5% (closest: {count} at {width}); change other sizes "
            "or the target"
        )
    return {knob.key: width_value(family, config, width)}, count
