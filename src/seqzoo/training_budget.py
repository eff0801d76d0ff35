"""How long to train, decided from the size of the training split rather than by a fixed epoch count.

A fixed 30 epochs is 60 optimiser steps on a 40-series set (the model has barely moved) and 40,000 on
Speech Commands (hours past convergence). The budget is counted in optimiser steps instead:

- the batch size shrinks (not below ``min_batch_size``) so that an epoch has at least ``min_batches``
  batches: a 40-example set is not one batch per epoch;
- steps = ``epochs`` passes over the data, raised to at least ``min_steps`` and capped at ``max_steps``;
  the epoch count follows from the steps;
- schedules get the total in steps (``optim.warmup_cosine``), so warm-up and decay keep their shape at any
  size.

The policy decides only what the run leaves open: an explicit ``trainer.max_epochs`` or
``trainer.max_steps`` (a preset, a user's override, a debug config) is kept as it is, batch size included.
"""

import copy
import math
from dataclasses import dataclass

from omegaconf import DictConfig, open_dict


@dataclass(frozen=True)
class Budget:
    n_train: int
    batch_size: int
    batches_per_epoch: int
    steps: int
    epochs: int

    def describe(self) -> str:
        return (
            f"budget: {self.steps:,} optimiser steps = {self.epochs} epochs of {self.batches_per_epoch} batches "
            f"of {self.batch_size} ({self.n_train:,} training examples)"
        )


def plan(
    n_train: int,
    batch_size: int,
    epochs: int = 30,
    min_steps: int = 1000,
    max_steps: int | None = 20000,
    min_batches: int = 10,
    min_batch_size: int = 8,
) -> Budget:
    """The batch size, steps and epochs for ``n_train`` training examples; pure, so the policy is testable."""
    if n_train < 1:
        raise ValueError("the training split is empty")
    batch = min(batch_size, max(min_batch_size, n_train // min_batches), n_train)
    per_epoch = math.ceil(n_train / batch)
    steps = max(epochs * per_epoch, min_steps)
    if max_steps is not None:
        steps = min(steps, max_steps)
    return Budget(n_train, batch, per_epoch, steps, math.ceil(steps / per_epoch))


def with_training_budget(cfg: DictConfig, datamodule) -> tuple[DictConfig, Budget | None]:
    """-> (a config with the data's batch size and the trainer's length from the policy in ``cfg.budget``, the
    plan), unless the run fixes its length itself (then ``cfg`` unchanged and None). The values chosen are in
    the returned config, so the run's config.yaml records them (and a resume repeats them); the data module's
    batch size is set to match."""
    trainer = cfg.trainer
    given = trainer.get("max_epochs") not in (None, -1) or trainer.get("max_steps") not in (None, -1)
    if given or trainer.get("fast_dev_run") or not cfg.get("budget"):
        return cfg, None
    n_train = len(datamodule.splits["train"])
    budget = plan(n_train, int(datamodule.batch_size), **cfg.budget)
    datamodule.batch_size = budget.batch_size
    cfg = copy.deepcopy(cfg)
    with open_dict(cfg):
        if "batch_size" in cfg.data:
            cfg.data.batch_size = budget.batch_size
        cfg.trainer.max_steps = budget.steps
        cfg.trainer.max_epochs = budget.epochs
    return cfg, budget
