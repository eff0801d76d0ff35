"""Logging the training loss without paying Lightning's ``self.log`` on every step.

``self.log`` walks Lightning's result collection on each call: 0.5-1 ms a step on a CPU, up to 10 % of a
small model's step (measured with ``scripts/bench_train.py``). Loggers only write every
``trainer.log_every_n_steps`` steps anyway, so the loss is logged on those steps alone (``train/loss_step``,
also on the progress bar), and its epoch mean, weighted by batch size, is kept as a running sum and logged
once when the epoch ends (``train/loss_epoch``): the same two series ``self.log(on_step=True,
on_epoch=True)`` writes.
"""

import torch

EPOCH_LOSS = "train/loss_epoch"  # what a schedule on the training loss and the lowest-training-loss weights watch


class TrainLossLogging:
    """Mixin for a LightningModule: call ``log_train_loss`` in ``training_step``."""

    _train_loss_sum: torch.Tensor | None = None
    _train_loss_count: int = 0

    def log_train_loss(self, loss: torch.Tensor, batch_size: int) -> None:
        trainer = getattr(self, "_trainer", None)
        if trainer is None:  # training_step called in a user's own loop: there is nothing to log to
            return
        weighted = loss.detach() * batch_size
        self._train_loss_sum = weighted if self._train_loss_sum is None else self._train_loss_sum + weighted
        self._train_loss_count += batch_size
        # Lightning's own test for "the loggers write at this step" (private, hence the fallback: log every step)
        if getattr(getattr(trainer, "_logger_connector", None), "should_update_logs", True):
            self.log("train/loss_step", loss, prog_bar=True, on_step=True, on_epoch=False, batch_size=batch_size)

    def on_train_epoch_end(self) -> None:
        if self._train_loss_count:
            self.log(EPOCH_LOSS, self._train_loss_sum / self._train_loss_count, on_step=False, on_epoch=True)
        self._train_loss_sum, self._train_loss_count = None, 0
