"""Stop a run at its first non-finite loss, before any non-finite weights reach a checkpoint.

Without it, a learning rate too high for the model (``task.optimizer.lr=1e6``) would train every epoch on
``nan``, save the NaN weights as ``best.ckpt`` and exit 0. The first non-finite training or validation loss
raises ``Diverged``: Lightning stops, saves nothing more (checkpoint callbacks run after this one and do not
save on an exception), and ``train`` records the run as diverged and says what usually fixes it.

The training loss is checked without a host sync on every step: a flag on the loss's device remembers the
first bad step, and is read on the steps the loggers write and before every epoch's checkpoints.
"""

import lightning as L
import torch

from seqzoo.data.batch import TARGET_MASK, TARGETS
from seqzoo.errors import SeqzooError
from seqzoo.layers.masking import IGNORE_INDEX

FIXES = (
    "a lower learning rate (task.optimizer.lr=...), gradient clipping (trainer.gradient_clip_val=1.0) "
    "or 32-bit precision (trainer.precision=32-true) usually fixes it"
)


class Diverged(SeqzooError):
    def __init__(self, what: str, step: int):
        self.what, self.step = what, step
        super().__init__(f"the run diverged: the {what} was not finite at step {step}; {FIXES}")


def scored_steps(batch: dict) -> torch.Tensor:
    """How many target steps of a batch are scored: real (``target_mask``) and not IGNORE_INDEX."""
    targets = batch[TARGETS]
    scored = targets != IGNORE_INDEX if not targets.is_floating_point() else torch.ones_like(targets, dtype=torch.bool)
    if TARGET_MASK in batch:
        scored = scored & batch[TARGET_MASK].view(
            scored.shape[: batch[TARGET_MASK].dim()] + (1,) * (scored.dim() - batch[TARGET_MASK].dim())
        )
    return scored.sum()


class ScoresNothing(SeqzooError):
    def __init__(self, split: str, sizes: dict):
        shown = ", ".join(f"{k} {v}" for k, v in sizes.items())
        super().__init__(
            f"the {split} split scores no step: none of its targets counts (each is padding, or a tag or "
            f"token the training split never had, which is not scored). Its loss is 0/0, not a diverged "
            f"run. Split sizes: {shown}. Give it labelled steps the training split also has, or more data "
            "(data.val_fraction / data.val_size)"
        )


class StopOnDivergence(L.Callback):
    """Also tells a split that scores nothing (every target ignored) from a diverged run: the losses over it
    are 0 by construction (``tasks.scoring.scored_cross_entropy``), and the count of scored steps says why."""

    def __init__(self):
        self.first_bad: torch.Tensor | None = None  # () long on the loss's device: the first bad step, or -1
        self.scored = {"train": 0, "val": 0}  # scored target steps this epoch (a tensor on the batch's device)
        self.batches = {"train": 0, "val": 0}

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        self.scored["train"] = self.batches["train"] = 0

    def on_validation_epoch_start(self, trainer, pl_module) -> None:
        self.scored["val"] = self.batches["val"] = 0

    def count(self, split: str, batch: dict) -> None:
        self.scored[split] = self.scored[split] + scored_steps(batch)  # on the device: no host sync per step
        self.batches[split] += 1

    def on_validation_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0) -> None:
        self.count("val", batch)

    def nothing_scored(self, split: str, trainer) -> None:
        """Only over a whole epoch that ran batches (not the sanity check's two, not a resumed epoch's none)."""
        if self.batches[split] and not trainer.sanity_checking and int(self.scored[split]) == 0:
            splits = getattr(trainer.datamodule, "splits", None) or {}
            raise ScoresNothing(split, {k: len(v) for k, v in splits.items()})

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self.count("train", batch)
        loss = outputs["loss"] if isinstance(outputs, dict) else outputs
        if loss is None:
            return
        if self.first_bad is None:
            self.first_bad = torch.full((), -1, dtype=torch.long, device=loss.device)
        step = trainer.global_step - 1  # the step whose loss this is (the optimiser has stepped since)
        bad = (self.first_bad < 0) & ~torch.isfinite(loss.detach())
        self.first_bad = torch.where(bad, torch.full_like(self.first_bad, step), self.first_bad)
        if trainer.global_step % max(1, trainer.log_every_n_steps) == 0:
            self.check()

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        self.check()
        self.nothing_scored("train", trainer)

    def on_validation_epoch_end(self, trainer, pl_module) -> None:
        self.nothing_scored("val", trainer)
        loss = trainer.callback_metrics.get("val/loss")
        if loss is not None and not torch.isfinite(loss):
            raise Diverged("validation loss", trainer.global_step)

    def check(self) -> None:
        if self.first_bad is not None and int(self.first_bad) >= 0:
            raise Diverged("training loss", int(self.first_bad))
