"""The training budget: enough optimiser steps on tiny sets, a cap on large ones, explicit lengths kept."""

import pytest
from omegaconf import OmegaConf

from seqzoo.training_budget import plan, with_training_budget

POLICY = dict(epochs=30, min_steps=1000, max_steps=20000, min_batches=10, min_batch_size=8)


def test_a_tiny_set_gets_small_batches_and_the_minimum_number_of_steps():
    b = plan(40, batch_size=64, **POLICY)
    assert b.batch_size == 8 and b.batches_per_epoch == 5  # 40 examples: 5 batches of 8, not 1 of 40
    assert b.steps == 1000 and b.epochs == 200  # 30 epochs would be 150 steps


def test_a_large_set_is_capped_in_steps_and_keeps_its_batch():
    b = plan(85_000, batch_size=64, **POLICY)
    assert b.batch_size == 64 and b.batches_per_epoch == 1329
    assert b.steps == 20000 and b.epochs == 16  # 30 epochs would be 39,870 steps


def test_a_medium_set_trains_its_nominal_epochs():
    b = plan(5_000, batch_size=32, **POLICY)
    assert (b.batch_size, b.steps, b.epochs) == (32, 30 * 157, 30)


def test_the_batch_never_exceeds_the_set_and_steps_cover_the_epochs():
    for n in (1, 3, 9, 17, 100, 999, 12_345):
        b = plan(n, batch_size=32, **POLICY)
        assert 1 <= b.batch_size <= n and b.epochs * b.batches_per_epoch >= b.steps >= min(
            1000, 30 * b.batches_per_epoch
        )
    with pytest.raises(ValueError, match="empty"):
        plan(0, batch_size=32)


class Data:
    def __init__(self, n, batch_size):
        self.splits, self.batch_size = {"train": list(range(n))}, batch_size


def cfg(**trainer):
    return OmegaConf.create({"budget": POLICY, "data": {"batch_size": 64}, "trainer": {"max_epochs": None, **trainer}})


def test_the_policy_fills_in_the_run_and_records_it_in_a_new_config():
    given, data = cfg(), Data(40, 64)
    c, budget = with_training_budget(given, data)
    assert data.batch_size == c.data.batch_size == 8
    assert c.trainer.max_steps == budget.steps == 1000 and c.trainer.max_epochs == 200
    assert given.data.batch_size == 64 and "max_steps" not in given.trainer  # the composed config is left as it was


@pytest.mark.parametrize("trainer", [{"max_epochs": 3}, {"max_steps": 50}, {"fast_dev_run": True}])
def test_an_explicit_length_is_kept_as_given(trainer):
    given, data = cfg(**trainer), Data(40, 64)
    c, budget = with_training_budget(given, data)
    assert budget is None and c is given
    assert data.batch_size == c.data.batch_size == 64 and c.trainer.get("max_epochs") == trainer.get("max_epochs")
