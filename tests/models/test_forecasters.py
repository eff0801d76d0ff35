"""The direct forecasters (DLinear, N-BEATS): their contract (a context of exactly L steps in, (B, H, K, outputs)
out, each target channel from its own past), their equations against a float64 reference written one step at a
time, and their place in the forecasting task (the baseline they correct, the scaling undone, the mappings they
refuse). Families are found in configs/model/ by the ``forecaster`` flag."""

import math

import pytest
import torch
from hydra.utils import instantiate

from seqzoo.errors import SeqzooError
from seqzoo.models import NBEATS, DLinear, create_model, list_models
from seqzoo.models.dlinear import moving_average
from seqzoo.models.nbeats import seasonal_basis, trend_basis
from seqzoo.models.registry import family_class
from seqzoo.tasks.forecast_metrics import naive, seasonal_naive
from seqzoo.train import build_task
from tests.conftest import config_names, make_cfg

FORECASTERS = list_models("forecaster")
SMALL = {"nbeats": {"width": 16, "stacks": 3}}  # the paper's 30 stacks of 512 units: the same code, slower


def build(name: str, input_size: int = 1, **sizes):
    return create_model(name, input_size=input_size, **SMALL.get(name, {}), **sizes)


def test_the_forecasters_are_found_by_their_flag_and_the_encoders_are_the_rest():
    assert {"dlinear", "nbeats"} <= set(FORECASTERS)
    assert sorted(FORECASTERS + list_models("encoder")) == sorted(config_names("model"))
    assert all(getattr(family_class(n), "forecaster", False) for n in FORECASTERS)


@pytest.mark.parametrize("name", FORECASTERS)
def test_shapes_and_each_target_read_from_its_own_past(name):
    torch.manual_seed(0)
    model = build(name, context=20, horizon=6, input_size=4, num_targets=2, outputs=3).eval()
    x = torch.randn(5, 20, 4)
    y = model(x)
    assert y.shape == (5, 6, 2, 3) and torch.isfinite(y).all()
    changed = x.clone()
    changed[..., 1] += torch.randn(5, 20)  # the second target
    changed[..., 2:] += 1.0  # the features beyond the targets are not read
    z = model(changed)
    assert torch.equal(z[:, :, 0], y[:, :, 0])  # the first target's forecast does not see the second
    assert not torch.allclose(z[:, :, 1], y[:, :, 1])
    assert torch.equal(model(x[:2]), y[:2])  # rows do not mix


@pytest.mark.parametrize("name", FORECASTERS)
def test_a_context_of_the_wrong_length_or_padded_is_refused(name):
    model = build(name, context=12, horizon=3)
    with pytest.raises(ValueError, match="12 steps"):
        model(torch.randn(2, 10, 1))
    mask = torch.ones(2, 12, dtype=torch.bool)
    mask[0, -2:] = False
    with pytest.raises(ValueError, match="padded"):
        model(torch.randn(2, 12, 1), mask)


@pytest.mark.parametrize("name", FORECASTERS)
def test_zero_forecast_starts_at_zero_and_still_learns(name):
    torch.manual_seed(0)
    model = build(name, context=16, horizon=4, outputs=2)
    model.zero_forecast()
    x = torch.randn(3, 16, 1)
    assert torch.equal(model(x), torch.zeros(3, 4, 1, 2))
    model(x).sum().backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())


def test_moving_average_equals_the_mean_of_each_window_with_the_ends_repeated():
    x = torch.randn(2, 9, 3, dtype=torch.float64)
    for k in (1, 4, 5, 25):
        got = moving_average(x, k)
        for t in range(9):
            steps = [min(max(t + j, 0), 8) for j in range(-((k - 1) // 2), k // 2 + 1)]  # edge values repeated
            assert torch.allclose(got[:, t], x[:, steps].mean(1), rtol=0, atol=1e-14)


@pytest.mark.parametrize("individual", [False, True])
def test_dlinear_is_two_linear_maps_over_time_of_trend_and_remainder(individual):
    torch.manual_seed(0)
    L, H, K = 30, 5, 2
    model = DLinear(L, H, input_size=K, kernel_size=7, individual=individual).double()
    x = torch.randn(3, L, K, dtype=torch.float64)
    y = model(x)  # (3, H, K, 1)
    for k in range(K):
        t_map, r_map = model.trend[k if individual else 0], model.remainder[k if individual else 0]
        for b in range(3):
            series = x[b, :, k]
            trend = torch.stack([series[[min(max(t + j, 0), L - 1) for j in range(-3, 4)]].mean() for t in range(L)])
            expected = t_map.weight @ trend + t_map.bias + r_map.weight @ (series - trend) + r_map.bias
            assert torch.allclose(y[b, :, k, 0], expected, rtol=0, atol=1e-12)
    if individual:  # a pair of maps per channel
        assert len(model.trend) == K and not torch.equal(model.trend[0].weight, model.trend[1].weight)


def test_dlinear_cuts_a_kernel_longer_than_the_context_to_an_odd_one_that_fits():
    assert DLinear(context=12, horizon=3).kernel_size == 11
    assert DLinear(context=13, horizon=3).kernel_size == 13
    assert DLinear(context=96, horizon=3).kernel_size == 25


def residual_of_fit(values: torch.Tensor, basis: torch.Tensor) -> float:
    """The largest residual of least squares of ``values`` (N, T) on the rows of ``basis`` (P, T)."""
    coef = torch.linalg.lstsq(basis.T, values.T).solution  # (P, N)
    return float((basis.T @ coef - values.T).abs().max())


def test_nbeats_interpretable_forecast_is_a_trend_plus_a_season_in_their_bases():
    torch.manual_seed(0)
    L, H = 24, 8
    model = NBEATS(L, H, variant="interpretable", blocks_per_stack=3, width=16, share_weights=True).double()
    assert len(model.stacks[0]) == 1 and model.repeats == 3  # one block, applied three times
    x = torch.randn(4, L, 1, dtype=torch.float64)
    parts = model.decompose(x)
    assert torch.allclose(parts["trend"] + parts["seasonality"], model(x), rtol=0, atol=1e-12)
    t = torch.arange(H, dtype=torch.float64) / H
    trend, season = model.stacks[0][0].V_f, model.stacks[1][0].V_f  # built in float32, then made float64
    eps = torch.finfo(torch.float32).eps  # the bases' rounding: |values| <= 1, so a few eps
    assert torch.allclose(trend, trend_basis(t, 3), rtol=0, atol=4 * eps)
    assert torch.allclose(season, seasonal_basis(t, H // 2), rtol=0, atol=16 * eps)  # cos and sin of 2 pi i t
    with torch.no_grad():
        assert residual_of_fit(parts["trend"][:, :, 0, 0], trend) < 1e-10
        assert residual_of_fit(parts["seasonality"][:, :, 0, 0], season) < 1e-10
        # and the season is not a straight line (the test could fail)
        assert residual_of_fit(parts["seasonality"][:, :, 0, 0], trend[:2]) > 1e-6


def test_a_season_has_the_same_period_before_and_after_the_origin():
    H, L = 6, 18
    before, after = torch.arange(-L, 0) / H, torch.arange(H) / H
    season = seasonal_basis(torch.cat([before, after]).double(), 3)  # (6, L + H)
    for i in range(1, 3):  # harmonic i repeats every H / i steps across the origin
        period = H // i
        assert torch.allclose(season[i, period:], season[i, :-period], atol=1e-12)


def test_nbeats_blocks_explain_the_context_away():
    """Each block reads the residual the blocks before it left: with two generic blocks, the second one's
    input is the context minus the first one's backcast."""
    torch.manual_seed(0)
    model = NBEATS(10, 3, stacks=2, width=8, layers=2).double()
    x = torch.randn(2, 10, 1, dtype=torch.float64)
    first, second = model.stacks[0][0], model.stacks[1][0]
    b1, f1 = first(x[..., 0])
    _, f2 = second(x[..., 0] - b1)
    assert torch.allclose(model(x)[:, :, 0], f1 + f2, rtol=0, atol=1e-12)
    assert math.isclose(sum(p.numel() for p in model.parameters()), 2 * sum(p.numel() for p in first.parameters()))


def forecast_task(tmp_path, name: str, overrides=()):
    cfg = make_cfg(tmp_path, ["task=forecast", "data=airline", f"model={name}", *overrides])
    dm = instantiate(cfg.data)
    dm.setup("fit")
    batch = next(iter(dm.val_dataloader()))
    return build_task(cfg, dm.info), dm, batch


@pytest.mark.parametrize("name", FORECASTERS)
def test_a_forecaster_correcting_seasonal_naive_starts_as_it_on_the_original_scale(tmp_path, name):
    task, dm, batch = forecast_task(tmp_path, name, ["task.baseline=seasonal_naive", *overrides_small(name)])
    point, q = task.forecast(batch)
    context = batch["inputs"][..., :1] * batch["scale"].unsqueeze(1) + batch["loc"].unsqueeze(1)  # (B, L, 1)
    expected = seasonal_naive(context, dm.horizon, dm.m)
    assert point.shape == batch["targets"].shape == expected.shape
    bound = 64 * torch.finfo(torch.float32).eps * float(context.abs().max())  # a few roundings of the scaling
    assert torch.allclose(point, expected, rtol=0, atol=bound)
    assert torch.allclose(q, expected.unsqueeze(-1).expand_as(q), rtol=0, atol=bound)  # every quantile, too


def overrides_small(name: str) -> list[str]:
    return [f"model.{k}={v}" for k, v in SMALL.get(name, {}).items()]


@pytest.mark.parametrize("scaling", ["window", "train"])
def test_dlinear_that_repeats_the_last_value_forecasts_naive_whatever_the_scaling(tmp_path, scaling):
    """The scaling is undone: maps that copy the last context step give naive on the original scale."""
    task, dm, batch = forecast_task(tmp_path, "dlinear", [f"++data.scaling={scaling}", "task.output=point"])
    with torch.no_grad():
        for layer in (task.backbone.trend[0], task.backbone.remainder[0]):
            layer.weight.zero_()
            layer.bias.zero_()
            layer.weight[:, -1] = 1.0  # trend + remainder = x: both parts of the last step
    point, _ = task.forecast(batch)
    context = batch["inputs"][..., :1] * batch["scale"].unsqueeze(1) + batch["loc"].unsqueeze(1)
    expected = naive(context, dm.horizon)
    bound = 64 * torch.finfo(torch.float32).eps * float(context.abs().max())
    assert torch.allclose(point, expected, rtol=0, atol=bound)


def test_a_forecaster_in_another_mapping_or_stepping_through_the_horizon_is_refused(tmp_path):
    with pytest.raises(SeqzooError, match="task=forecast only.*model=.*lstm"):
        build_task(make_cfg(tmp_path, ["model=dlinear"]), {"input_size": 3, "num_classes": 2})
    with pytest.raises(SeqzooError, match="task.method=direct"):
        forecast_task(tmp_path, "nbeats", ["task.method=autoregressive", "decoder=gru", *overrides_small("nbeats")])
