"""What a user should know about a model before it trains: parameters per module, and whether it can see
its data: a TCN's receptive field against the longest sequence (a warning when shorter), a Transformer's
positions against it (an error when exceeded, since positions beyond ``max_len`` do not exist)."""

import warnings

from torch import nn

from seqzoo.errors import SeqzooError
from seqzoo.models.budget import count_parameters
from seqzoo.models.tcn import TCN
from seqzoo.models.transformer import TransformerEncoder


def parameter_counts(module: nn.Module) -> dict[str, int]:
    """Trainable parameters of each direct child, and the total."""
    counts = {name: count_parameters(child) for name, child in module.named_children()}
    counts["total"] = count_parameters(module)
    return counts


def check_reach(module: nn.Module, max_length: int | None) -> list[str]:
    """Lines about every TCN and Transformer inside ``module`` against the data's longest sequence."""
    lines = []
    for name, m in module.named_modules():
        if isinstance(m, TCN):
            line = f"{name or 'model'}: TCN receptive field {m.receptive_field} steps, longest sequence {max_length}"
            lines.append(line)
            if max_length and m.receptive_field < max_length:
                warnings.warn(f"{line}: outputs cannot see the start of long sequences; add levels or widen kernel_size", stacklevel=2)
                m.warned = True  # said once here, so the TCN's own check in forward stays quiet
        elif isinstance(m, TransformerEncoder):
            lines.append(f"{name or 'model'}: Transformer positions up to {m.max_len}, longest sequence {max_length}")
            if max_length and max_length > m.max_len:
                raise SeqzooError(f"sequences reach {max_length} steps but the Transformer has positions up to {m.max_len}; set model.max_len={max_length} or more")
    return lines


def summary(module: nn.Module, max_length: int | None = None) -> str:
    counts = parameter_counts(module)
    rows = [f"{name:<24}{n:>12,}" for name, n in counts.items()]
    return "\n".join(["parameters per module:", *rows, *check_reach(module, max_length)])
