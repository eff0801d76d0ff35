"""Optimiser and learning-rate schedule from config, shared by every task.

Configs pass the optimiser as a partial (``_partial_: true``) that takes the parameters, and the schedule
as a partial that takes the optimiser; a schedule that names ``total_steps`` gets the run's total from the
Trainer, so no config has to know the data set's size.
"""

import inspect
import math

import torch


def warmup(step: int, warmup_steps: int) -> float:
    """The linear warm-up factor every schedule here starts with: (step + 1) / warmup_steps, then 1."""
    return (step + 1) / warmup_steps if step < warmup_steps else 1.0


def warmup_cosine(optimizer: torch.optim.Optimizer, total_steps: int, warmup_steps: int = 0, min_ratio: float = 0.0):
    """Linear warm-up over ``warmup_steps``, then cosine decay to ``min_ratio`` x the base rate."""

    def factor(step: int) -> float:
        if step < warmup_steps:
            return warmup(step, warmup_steps)
        progress = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
        return min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * progress))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def step_decay(optimizer: torch.optim.Optimizer, total_steps: int, milestones=(0.5,), gamma: float = 0.1, warmup_steps: int = 0):
    """Multiply the rate by ``gamma`` at each milestone, given as a fraction of training (0.5: halfway), so a
    schedule written for 20 epochs keeps its shape in a shortened run; optional linear warm-up first."""
    at = sorted(int(m * total_steps) for m in milestones)

    def factor(step: int) -> float:
        return warmup(step, warmup_steps) * gamma ** sum(step >= a for a in at)

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def configure_optimizers(module, optimizer, scheduler=None):
    """Lightning's ``configure_optimizers`` for a module holding the two partials; steps the schedule per batch."""
    opt = optimizer(module.parameters()) if optimizer is not None else torch.optim.Adam(module.parameters())
    if scheduler is None:
        return opt
    func = getattr(scheduler, "func", scheduler)
    kwargs = {}
    if "total_steps" in inspect.signature(func).parameters and "total_steps" not in getattr(scheduler, "keywords", {}):
        kwargs["total_steps"] = int(module.trainer.estimated_stepping_batches)
    return {"optimizer": opt, "lr_scheduler": {"scheduler": scheduler(opt, **kwargs), "interval": "step"}}
