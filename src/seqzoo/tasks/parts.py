"""Building the parts a task is given: a ready module passes through; a partial (Hydra ``_partial_: true``)
is called with the sizes the task knows (input size, memory size, ...), keeping only those it accepts."""

import inspect

import torch
import torchmetrics
from torch import nn
from torch.nn import functional as F

from seqzoo.data.vocab import PAD_ID
from seqzoo.errors import SeqzooError
from seqzoo.layers.masking import IGNORE_INDEX
from seqzoo.models.interface import max_length


def build(part, **sizes) -> nn.Module:
    if isinstance(part, nn.Module):
        return part
    func = getattr(part, "func", part)
    params = inspect.signature(func).parameters
    pinned = getattr(part, "keywords", {})
    clash = {k: (pinned[k], v) for k, v in sizes.items() if k in pinned and k in params and pinned[k] is not None and pinned[k] != v}
    if clash:
        name = getattr(func, "__name__", str(func))
        raise SeqzooError(f"{name}: {', '.join(f'{k}={a} is set in the config but the task needs {k}={b}' for k, (a, b) in clash.items())}; remove it from the config, sizes come from the data")
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    return part(**{k: v for k, v in sizes.items() if takes_any or k in params})


class InputEmbedding(nn.Module):
    """Token ids (B, T) -> (B, T, E) when the data has an input vocabulary; features pass through."""

    def __init__(self, input_vocab_size: int | None, embedding_size: int, input_size: int | None):
        super().__init__()
        self.embedding = nn.Embedding(input_vocab_size, embedding_size, padding_idx=PAD_ID) if input_vocab_size else None
        self.output_size = embedding_size if input_vocab_size else input_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.embedding(x) if self.embedding is not None else x


def longest_input(task: nn.Module) -> int | None:
    """The longest input a task reads (its encoder's limit, a Transformer's positions, times the patch size a
    many-to-one task reads long signals in), or None for any length."""
    reader = getattr(task, "backbone", None) or getattr(task, "encoder", None)
    limit = max_length(reader) if reader is not None else None
    return None if limit is None else limit * getattr(getattr(task, "patches", None), "size", 1)


def scored_cross_entropy(logits: torch.Tensor, targets: torch.Tensor, label_smoothing: float = 0.0) -> torch.Tensor:
    """logits (N, K), targets (N,) -> the mean cross-entropy over the scored targets (not IGNORE_INDEX), as
    torch's mean; 0 with a zero gradient, not 0/0 = NaN, when nothing is scored: a batch of unscored steps is not
    a diverged run (the divergence callback names a split that scores nothing)."""
    losses = F.cross_entropy(logits, targets, ignore_index=IGNORE_INDEX, reduction="none", label_smoothing=label_smoothing)
    return losses.sum() / (targets != IGNORE_INDEX).sum().clamp_min(1)


def class_metrics(num_classes: int, ignore_index: int | None = None) -> dict:
    """Accuracy and macro-F1 over ``num_classes``; targets equal to ``ignore_index`` are not counted."""
    return {
        "acc": torchmetrics.Accuracy("multiclass", num_classes=num_classes, ignore_index=ignore_index),
        "f1": torchmetrics.F1Score("multiclass", num_classes=num_classes, average="macro", ignore_index=ignore_index),
    }


def stage_metrics(metrics: dict) -> nn.ModuleDict:
    """One collection per evaluated split, logged as ``val/<name>`` and ``test/<name>``."""
    return nn.ModuleDict({stage: torchmetrics.MetricCollection(metrics).clone(prefix=f"{stage}/") for stage in ("val", "test")})
