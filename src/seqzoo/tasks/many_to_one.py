"""Many-to-one: classify or regress a whole sequence. backbone -> masked pooling -> linear head."""

import lightning as L
import torch
import torch.nn.functional as F
import torchmetrics
from torch import nn

from seqzoo.data.batch import INPUT_MASK, INPUTS, TARGETS
from seqzoo.errors import SeqzooError
from seqzoo.layers.patching import Patches, patch_size
from seqzoo.layers.pooling import MaskedPooling, default_pooling
from seqzoo.models.interface import is_causal, reach, reads_every_step, run_encoder
from seqzoo.sizes import builder, with_sizes
from seqzoo.tasks.augment import Augment
from seqzoo.tasks.inputs import InputEmbedding, ReadsSequences
from seqzoo.tasks.optim import configure_optimizers
from seqzoo.tasks.scoring import class_metrics, stage_metrics
from seqzoo.tasks.train_loss import TrainLossLogging

AUTO_PATCHES = 64  # recurrent and attention families train far better on ~64 patches than on 1,000 raw steps


class ManyToOne(ReadsSequences, TrainLossLogging, L.LightningModule):
    """``num_classes`` set: cross-entropy with accuracy and macro-F1; ``num_classes=None``: regression of
    ``num_targets`` values with MSE and MAE. ``class_names`` make predictions readable. ``backbone`` is a
    module, or a partial that gets ``input_size`` (features, or ``embedding_size`` for token inputs).
    ``pooling="auto"`` picks what suits the backbone (``layers.pooling.default_pooling``). Feature sequences
    longer than ``target_length`` steps (the data's ``max_length``) reach the backbone as patches of
    consecutive steps (``layers.patching``); ``target_length=null`` feeds every step, and ``auto`` does so for a
    family that declares ``every_step`` (the Conv1d classifiers), ``AUTO_PATCHES`` patches for the others.
    ``augment`` (jitter, scaling, window, mixup: ``tasks.augment``) transforms training batches only."""

    mapping = "many_to_one"

    def __init__(
        self,
        backbone,
        num_classes: int | None = None,
        num_targets: int = 1,
        input_size: int | None = None,
        input_vocab_size: int | None = None,
        embedding_size: int = 64,
        pooling: str = "auto",
        target_length: int | str | None = "auto",
        max_length: int | None = None,
        dropout: float = 0.0,
        optimizer=None,
        scheduler=None,
        class_names: list[str] | None = None,
        augment: dict | None = None,
    ):
        super().__init__()
        self.embed = InputEmbedding(input_vocab_size, embedding_size, input_size)
        self.augment = Augment(**(augment or {}))
        if self.augment.active and input_vocab_size:
            raise SeqzooError("task.augment transforms numeric series; this data is tokens: leave task.augment off")
        if target_length == "auto":
            target_length = None if reads_every_step(builder(backbone)) else AUTO_PATCHES
        self.patches = Patches(1 if input_vocab_size else patch_size(max_length, target_length))  # tokens stay whole
        self.backbone = with_sizes(backbone, dict(input_size=self.patches.output_size(self.embed.output_size)))
        if pooling == "auto":
            pooling = default_pooling(is_causal(self.backbone), reach(self.backbone))
        self.pool = MaskedPooling(pooling, self.backbone.output_size)
        self.dropout = nn.Dropout(dropout)
        self.classify = num_classes is not None
        self.head = nn.Linear(self.backbone.output_size, num_classes if self.classify else num_targets)
        self.optimizer, self.scheduler, self.class_names = optimizer, scheduler, class_names
        regression = {"mse": torchmetrics.MeanSquaredError(), "mae": torchmetrics.MeanAbsoluteError()}
        self.metrics = stage_metrics(class_metrics(num_classes) if self.classify else regression)

    @property
    def steps_per_backbone_step(self) -> int:  # long signals reach the backbone as patches of this many steps
        return self.patches.size

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """x (B, T, C), mask (B, T) -> logits (B, classes) or values (B, targets)"""
        x, mask = self.patches(self.embed(x), mask)  # (B, T / p, p * C)
        h = run_encoder(self.backbone, x, mask)  # (B, T / p, D)
        return self.head(self.dropout(self.pool(h, mask)))

    def loss(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(out, y) if self.classify else F.mse_loss(out, y.view_as(out).to(out.dtype))

    def training_step(self, batch: dict, batch_idx: int) -> torch.Tensor:
        x, mask, y, y_other, weight = self.augment(batch[INPUTS], batch[INPUT_MASK], batch[TARGETS])  # training only
        out = self(x, mask)
        loss = self.loss(out, y) if weight == 1 else weight * self.loss(out, y) + (1 - weight) * self.loss(out, y_other)
        self.log_train_loss(loss, len(batch[TARGETS]))
        return loss

    def evaluate(self, batch: dict, stage: str) -> None:
        out, y = self(batch[INPUTS], batch[INPUT_MASK]), batch[TARGETS]
        n = len(y)
        self.log(f"{stage}/loss", self.loss(out, y), prog_bar=stage == "val", batch_size=n, sync_dist=True)
        self.metrics[stage].update(out, y if self.classify else y.view_as(out).to(out.dtype))
        self.log_dict(self.metrics[stage], prog_bar=stage == "val", batch_size=n)

    def validation_step(self, batch: dict, batch_idx: int) -> None:
        self.evaluate(batch, "val")

    def test_step(self, batch: dict, batch_idx: int) -> None:
        self.evaluate(batch, "test")

    def predict_step(self, batch: dict, batch_idx: int) -> list[dict]:
        """Readable predictions: class name and probability, or the regressed values."""
        out = self(batch[INPUTS], batch[INPUT_MASK])
        if not self.classify:
            return [{"prediction": ", ".join(f"{v:.6g}" for v in row)} for row in out.tolist()]
        prob, idx = out.softmax(-1).max(-1)
        names = self.class_names or [str(i) for i in range(out.shape[-1])]
        return [{"prediction": names[i], "probability": round(p, 4)} for i, p in zip(idx.tolist(), prob.tolist())]

    def configure_optimizers(self):
        return configure_optimizers(self, self.optimizer, self.scheduler)
