"""Schedules in steps: warm-up, cosine decay and step decay keep their shape at any run length, and under
``trainer.max_time`` in time too."""

import math
from functools import partial
from types import SimpleNamespace

import pytest
import torch
from lightning.pytorch.callbacks import Timer

from seqzoo.errors import SeqzooError
from seqzoo.tasks.optim import configure_optimizers, on_plateau, step_decay, warmup_cosine


def rates(scheduler_of, steps: int) -> list[float]:
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    sched = scheduler_of(opt)
    out = []
    for _ in range(steps):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return out


def test_warmup_cosine_rises_linearly_then_decays_to_the_floor():
    r = rates(lambda o: warmup_cosine(o, total_steps=100, warmup_steps=10, min_ratio=0.1), 101)
    assert r[0] == pytest.approx(0.1) and r[9] == pytest.approx(1.0)
    assert r[55] == pytest.approx(0.1 + 0.9 * 0.5, abs=1e-6)  # halfway through the decay
    assert r[100] == pytest.approx(0.1) and all(a >= b for a, b in zip(r[10:], r[11:]))


def test_step_decay_divides_the_rate_at_each_fraction_of_training():
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    sched = step_decay(opt, total_steps=100, milestones=[0.5, 0.75], gamma=0.1)
    rates = []
    for _ in range(100):
        rates.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert rates[49] == pytest.approx(1.0) and rates[50] == pytest.approx(0.1) and rates[75] == pytest.approx(0.01)
    warm = step_decay(torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0), total_steps=100, warmup_steps=4)
    assert warm.get_last_lr()[0] == pytest.approx(0.25)  # first of 4 warm-up steps


def test_a_run_the_clock_stops_still_ends_its_decay():
    """Progress is the larger of steps and the share of ``trainer.max_time`` used: a run cut at half its steps by
    the clock decays to the floor; where steps are further, the clock changes nothing."""
    clock = {"used": 0.0}
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    cosine = warmup_cosine(opt, total_steps=100, warmup_steps=10, min_ratio=0.1, time_used=lambda: clock["used"])
    decay = step_decay(
        torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0),
        total_steps=100,
        milestones=[0.5],
        time_used=lambda: clock["used"],
    )
    factor, decay_factor = cosine.lr_lambdas[0], decay.lr_lambdas[0]
    assert factor(5) == pytest.approx(0.6)  # the warm-up counts steps only
    assert factor(55) == pytest.approx(0.55, abs=1e-6)  # halfway by steps
    clock["used"] = 0.5  # the clock is ahead of the steps: its half decides
    assert factor(20) == pytest.approx(0.55, abs=1e-6) and decay_factor(20) == pytest.approx(0.1)
    clock["used"] = 1.0  # time is up at step 50 of 100: the floor, not the rate at halfway
    assert factor(50) == pytest.approx(0.1) and factor(100) == pytest.approx(0.1)
    clock["used"] = 0.1  # behind the steps: the steps decide
    assert factor(55) == pytest.approx(0.55, abs=1e-6) and decay_factor(49) == pytest.approx(1.0)


@pytest.mark.parametrize("max_time", [None, "00:00:01:00"])
def test_the_schedule_gets_the_time_used_only_under_max_time(max_time):
    module = torch.nn.Linear(1, 1)
    timer = Timer(duration=max_time) if max_time else None
    module.trainer = SimpleNamespace(estimated_stepping_batches=100, callbacks=[timer] if timer else [])
    if timer:
        timer.load_state_dict({"time_elapsed": {"train": 45.0}})  # 45 s of 60 spent (as restored on resume)
    config = configure_optimizers(module, partial(torch.optim.SGD, lr=1.0), partial(warmup_cosine, min_ratio=0.0))
    rate = config["lr_scheduler"]["scheduler"].get_last_lr()[0]
    # at step 0: the full rate by steps; three quarters through by the clock: 0.5 (1 + cos(0.75 pi))
    assert rate == pytest.approx(0.5 * (1 + math.cos(0.75 * math.pi)) if max_time else 1.0)


def test_a_plateau_schedule_waits_a_share_of_the_epochs_on_the_training_loss():
    """recipe=fawaz2019: patience 1/30 of the run's epochs (their 50 of 1,500), stepped per epoch on the training
    loss, halving down to the floor."""
    module = torch.nn.Linear(1, 1)
    module.trainer = SimpleNamespace(estimated_stepping_batches=600, num_training_batches=10, callbacks=[])
    config = configure_optimizers(module, partial(torch.optim.Adam, lr=1e-3), partial(on_plateau, patience_share=0.1))
    schedule = config["lr_scheduler"]
    assert schedule["interval"] == "epoch" and schedule["monitor"] == "train/loss_epoch"
    plateau = schedule["scheduler"]
    assert plateau.patience == 6  # 600 steps / 10 batches = 60 epochs; a tenth of them
    rates = []
    for _ in range(40):  # a loss that never falls: halved after every 7th epoch without progress, floored at 1e-4
        plateau.step(1.0)
        rates.append(plateau.optimizer.param_groups[0]["lr"])
    assert rates[6] == 1e-3 and rates[7] == 5e-4 and min(rates) == 1e-4 and rates[-1] == 1e-4
    with pytest.raises(SeqzooError, match="warmup_steps=0"):
        on_plateau(plateau.optimizer, total_epochs=60, warmup_steps=20)
