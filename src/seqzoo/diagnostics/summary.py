"""What a user should know about a model before it trains: parameters per module, and whether each encoder
inside it can see its data. It asks the encoders (``models.interface``): a receptive field shorter than the
longest sequence is a warning (early steps are invisible), a sequence longer than ``max_len`` an error
(positions beyond it do not exist)."""

import warnings

from torch import nn

from seqzoo.errors import SeqzooError
from seqzoo.models.interface import Encoder, max_length, reach
from seqzoo.models.sizing import count_parameters


def parameter_counts(module: nn.Module) -> dict[str, int]:
    """Trainable parameters of each direct child, and the total."""
    counts = {name: count_parameters(child) for name, child in module.named_children()}
    counts["total"] = count_parameters(module)
    return counts


def check_reach(module: nn.Module, longest: int | None) -> list[str]:
    """Lines about every encoder inside ``module`` with a bounded reach or length, against the longest sequence."""
    lines = []
    for name, m in module.named_modules():
        if not isinstance(m, Encoder):
            continue
        kind, field, limit = type(m).__name__, reach(m), max_length(m)
        if field is not None:
            line = f"{name or 'model'}: {kind} receptive field {field} steps, longest sequence {longest}"
            lines.append(line)
            if longest and field < longest:
                warnings.warn(
                    f"{line}: outputs cannot see the start of long sequences; add levels or widen kernel_size",
                    stacklevel=2,
                )
                m.warned = True  # said once here, so the module's own check in forward stays quiet
        if limit is not None:
            lines.append(f"{name or 'model'}: {kind} positions up to {limit}, longest sequence {longest}")
            if longest and longest > limit:
                raise SeqzooError(
                    f"sequences reach {longest} steps but the {kind} has positions up to {limit}; set "
                    f"model.max_len={longest} or more"
                )
    return lines


def summary(module: nn.Module, max_length: int | None = None) -> str:
    counts = parameter_counts(module)
    rows = [f"{name:<24}{n:>12,}" for name, n in counts.items()]
    return "\n".join(["parameters per module:", *rows, *check_reach(module, max_length)])
