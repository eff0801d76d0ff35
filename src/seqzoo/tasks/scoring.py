"""Losses and metrics that several tasks share."""

import torch
import torchmetrics
from torch import nn
from torch.nn import functional as F

from seqzoo.layers.masking import IGNORE_INDEX


def scored_cross_entropy(logits: torch.Tensor, targets: torch.Tensor, label_smoothing: float = 0.0) -> torch.Tensor:
    """logits (N, K), targets (N,) -> the mean cross-entropy over the scored targets (not IGNORE_INDEX), as
    torch's mean; 0 with a zero gradient, not 0/0 = NaN, when nothing is scored: a batch of unscored steps is not
    a diverged run (the divergence callback names a split that scores nothing)."""
    losses = F.cross_entropy(
        logits, targets, ignore_index=IGNORE_INDEX, reduction="none", label_smoothing=label_smoothing
    )
    return losses.sum() / (targets != IGNORE_INDEX).sum().clamp_min(1)


def class_metrics(num_classes: int, ignore_index: int | None = None) -> dict:
    """Accuracy and macro-F1 over ``num_classes``; targets equal to ``ignore_index`` are not counted."""
    return {
        "acc": torchmetrics.Accuracy("multiclass", num_classes=num_classes, ignore_index=ignore_index),
        "f1": torchmetrics.F1Score("multiclass", num_classes=num_classes, average="macro", ignore_index=ignore_index),
    }


def stage_metrics(metrics: dict) -> nn.ModuleDict:
    """One collection per evaluated split, logged as ``val/<name>`` and ``test/<name>``."""
    return nn.ModuleDict(
        {stage: torchmetrics.MetricCollection(metrics).clone(prefix=f"{stage}/") for stage in ("val", "test")}
    )
