"""Schedules in steps: warm-up, cosine decay and step decay keep their shape at any run length."""

import pytest
import torch

from seqzoo.tasks.optim import step_decay, warmup_cosine


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
