"""Optimiser and learning-rate schedule from config, shared by every task.

Configs pass the optimiser as a partial (``_partial_: true``) that takes the parameters, and the schedule
as a partial that takes the optimiser; a schedule that names ``total_steps`` gets the run's total from the
Trainer, so no config has to know the data set's size. Under ``trainer.max_time`` a schedule that names
``time_used`` also gets the fraction of that time spent (Lightning's Timer, restored on resume), and counts
its progress as the larger of the two: a run that the clock stops still ends its decay instead of being cut
at a high rate (such a run was never exactly repeatable: where it stops depends on the clock).
"""

import inspect
import math

import torch
from lightning.pytorch.callbacks import Timer

from seqzoo.errors import SeqzooError
from seqzoo.tasks.train_loss import EPOCH_LOSS


def warmup(step: int, warmup_steps: int) -> float:
    """The linear warm-up factor every schedule here starts with: (step + 1) / warmup_steps, then 1."""
    return (step + 1) / warmup_steps if step < warmup_steps else 1.0


def progress(step: int, total_steps: int, time_used=None, start: int = 0) -> float:
    """How far training is, 0 to 1, after ``start`` steps: by steps, or by time where that is further."""
    by_steps = (step - start) / max(1, total_steps - start)
    return min(1.0, max(by_steps, time_used() if time_used is not None else 0.0))


def warmup_cosine(
    optimizer: torch.optim.Optimizer, total_steps: int, warmup_steps: int = 0, min_ratio: float = 0.0, time_used=None
):
    """Linear warm-up over ``warmup_steps``, then cosine decay to ``min_ratio`` x the base rate."""

    def factor(step: int) -> float:
        if step < warmup_steps:
            return warmup(step, warmup_steps)
        done = progress(step, total_steps, time_used, warmup_steps)
        return min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * done))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def step_decay(
    optimizer: torch.optim.Optimizer,
    total_steps: int,
    milestones=(0.5,),
    gamma: float = 0.1,
    warmup_steps: int = 0,
    time_used=None,
):
    """Multiply the rate by ``gamma`` at each milestone, given as a fraction of training (0.5: halfway), so a
    schedule written for 20 epochs keeps its shape in a shortened run; optional linear warm-up first."""

    def factor(step: int) -> float:
        done = progress(step, total_steps, time_used)
        return warmup(step, warmup_steps) * gamma ** sum(done >= m for m in milestones)

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def on_plateau(
    optimizer: torch.optim.Optimizer,
    total_epochs: int,
    factor: float = 0.5,
    patience: int | None = None,
    patience_share: float = 1 / 30,
    min_lr: float = 1e-4,
    warmup_steps: int = 0,
):
    """``factor`` x the rate whenever the epoch's mean training loss has not fallen for ``patience`` epochs, down
    to ``min_lr``: the schedule of the published convolutional classifiers (Ismail Fawaz et al. 2019: halve after 50
    epochs without progress, floor 1e-4). ``patience=None`` waits ``patience_share`` of the run's epochs (their 50
    of 1,500 is 1/30), so the schedule keeps its shape when the training budget sets fewer epochs. It has no
    warm-up: ``warmup_steps`` is accepted (a task's scheduler node keeps the key when a recipe replaces the
    target) and must be 0."""
    if warmup_steps:
        raise SeqzooError(f"on_plateau has no warm-up; set task.scheduler.warmup_steps=0 (got {warmup_steps})")
    wait = patience if patience is not None else max(1, round(patience_share * total_epochs))
    return torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, "min", factor, wait, min_lr=min_lr)


def configure_optimizers(module, optimizer, scheduler=None):
    """Lightning's ``configure_optimizers`` for a module holding the two partials; steps the schedule per batch,
    or per epoch on the training loss for a plateau schedule."""
    opt = optimizer(module.parameters()) if optimizer is not None else torch.optim.Adam(module.parameters())
    if scheduler is None:
        return opt
    named = inspect.signature(getattr(scheduler, "func", scheduler)).parameters
    given = getattr(scheduler, "keywords", {})
    kwargs = {}
    if "total_steps" in named and "total_steps" not in given:
        kwargs["total_steps"] = int(module.trainer.estimated_stepping_batches)
    if "total_epochs" in named and "total_epochs" not in given:
        steps = int(module.trainer.estimated_stepping_batches)  # sets up the training data, so its batches are known
        kwargs["total_epochs"] = math.ceil(steps / max(1, int(module.trainer.num_training_batches)))
    if "time_used" in named and "time_used" not in given:
        timer = next(
            (c for c in module.trainer.callbacks if isinstance(c, Timer) and c.time_remaining() is not None), None
        )
        if timer is not None:
            allowed = timer.time_elapsed() + timer.time_remaining()  # trainer.max_time, in seconds
            kwargs["time_used"] = lambda: timer.time_elapsed() / allowed
    schedule = scheduler(opt, **kwargs)
    if isinstance(schedule, torch.optim.lr_scheduler.ReduceLROnPlateau):
        return {"optimizer": opt, "lr_scheduler": {"scheduler": schedule, "interval": "epoch", "monitor": EPOCH_LOSS}}
    return {"optimizer": opt, "lr_scheduler": {"scheduler": schedule, "interval": "step"}}
