"""An ensemble of many-to-one models that evaluates, predicts, loads and exports as one model.

The members' class probabilities are averaged, as InceptionTime does with its five networks (regressed values
are averaged the same way). The ensemble's output is the log of that mean, log(1/N sum_i softmax(z_i)): a valid
logit vector whose softmax is the mean itself, so the one model's loss, accuracy, predictions and ONNX graph
read it unchanged. ``python train.py ensemble=5`` trains the members (``seqzoo.train_ensemble``).
"""

import copy
import math

import lightning as L
import torch
from torch import nn

from seqzoo.tasks.many_to_one import ManyToOne


class Ensemble(ManyToOne):
    """``members``: trained many-to-one tasks of one config (different seeds). Inherits the single model's
    evaluation, prediction and loss; only the forward pass differs."""

    def __init__(self, members: list[ManyToOne]):
        L.LightningModule.__init__(self)  # not ManyToOne's: the members hold every layer
        if not members or any(not isinstance(m, ManyToOne) for m in members):
            raise TypeError("an ensemble needs one or more many-to-one tasks")
        first = members[0]
        self.members = nn.ModuleList(members)
        self.classify, self.class_names = first.classify, first.class_names
        self.metrics = copy.deepcopy(first.metrics)

    # what callers ask a task about its inputs (export, predict's length check, the summary): the first member's
    @property
    def embed(self) -> nn.Module:
        return self.members[0].embed

    @property
    def backbone(self) -> nn.Module:
        return self.members[0].backbone

    @property
    def steps_per_backbone_step(self) -> int:
        return self.members[0].steps_per_backbone_step

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """x (B, T, C), mask (B, T) -> log of the mean class probabilities (B, classes), or mean values"""
        outs = torch.stack([member(x, mask) for member in self.members])  # (N, B, K)
        if not self.classify:
            return outs.mean(0)
        return torch.logsumexp(outs.log_softmax(-1), 0) - math.log(len(self.members))  # (B, K), stable in float32

    def configure_optimizers(self):
        raise RuntimeError("an Ensemble is assembled from trained members; train each member (train.py ensemble=N)")
