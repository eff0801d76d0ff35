"""The training loop a user would write by hand around a task module: loss, zero_grad, backward, clip,
step. Benchmarks compare the Trainer against it, and diagnostics and tests use it where the Trainer's
per-epoch overhead would dominate a few hundred steps."""

from collections.abc import Callable, Iterable, Iterator

import torch
from torch import nn


def plain_steps(
    module: nn.Module,
    optimizer: torch.optim.Optimizer,
    batches: Iterable,
    loss_of: Callable[[object], torch.Tensor],
    clip: float | None = 1.0,
) -> Iterator[torch.Tensor]:
    """One optimiser step per batch; yields each step's loss (detached, before the update), so the caller
    decides when to stop."""
    for batch in batches:
        loss = loss_of(batch)
        optimizer.zero_grad()
        loss.backward()
        if clip:
            torch.nn.utils.clip_grad_norm_(module.parameters(), clip)
        optimizer.step()
        yield loss.detach()
