"""Stop a run at its first non-finite loss, before any non-finite weights reach a checkpoint.

A learning rate too high for the model (``task.optimizer.lr=1e6``) used to train every epoch on ``nan``,
save the NaN weights as ``best.ckpt`` and exit 0. Now the first non-finite training or validation loss
raises ``Diverged``: Lightning stops, saves nothing more (checkpoint callbacks run after this one and do not
save on an exception), and ``train`` records the run as diverged and says what usually fixes it.

The training loss is checked without a host sync on every step: a flag on the loss's device remembers the
first bad step, and is read on the steps the loggers write and before every epoch's checkpoints.
"""

import lightning as L
import torch

from seqzoo.errors import SeqzooError

FIXES = ("a lower learning rate (task.optimizer.lr=...), gradient clipping (trainer.gradient_clip_val=1.0) "
         "or 32-bit precision (trainer.precision=32-true) usually fixes it")


class Diverged(SeqzooError):
    def __init__(self, what: str, step: int):
        self.what, self.step = what, step
        super().__init__(f"the run diverged: the {what} was not finite at step {step}; {FIXES}")


class StopOnDivergence(L.Callback):
    def __init__(self):
        self.first_bad: torch.Tensor | None = None  # () long on the loss's device: the first bad step, or -1

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
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

    def on_validation_epoch_end(self, trainer, pl_module) -> None:
        loss = trainer.callback_metrics.get("val/loss")
        if loss is not None and not torch.isfinite(loss):
            raise Diverged("validation loss", trainer.global_step)

    def check(self) -> None:
        if self.first_bad is not None and int(self.first_bad) >= 0:
            raise Diverged("training loss", int(self.first_bad))
