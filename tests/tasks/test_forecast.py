"""Forecasting: outputs and their losses, the scores and the baselines computed by hand, generation that
equals teacher forcing, and every family in the decoder role learning a batch."""

import math
import pathlib

import pytest
import torch
from scipy import stats

from seqzoo.errors import SeqzooError
from seqzoo.models import GRU, RNNDecoder
from seqzoo.tasks.forecast import Forecast
from seqzoo.tasks.forecast_metrics import CRPS_LEVELS, ForecastScores, naive, seasonal_naive
from seqzoo.tasks.forecast_outputs import ForecastOutput, pinball
from tests.conftest import config_names
from tests.tasks.test_matrix import overfit_loss
from tests.tolerance import assert_within, chain_depth


def test_pinball_is_the_check_function():
    q = torch.tensor([[1.0, 1.0]])
    levels = torch.tensor([0.1, 0.9])
    assert pinball(q, torch.tensor([3.0]), levels).tolist() == [
        [pytest.approx(0.2), pytest.approx(1.8)]
    ]  # under-forecast
    assert pinball(q, torch.tensor([0.0]), levels).tolist() == [
        [pytest.approx(0.9), pytest.approx(0.1)]
    ]  # over-forecast


def test_quantiles_of_each_output_kind():
    levels = [0.1, 0.5, 0.9]
    gauss = ForecastOutput("gaussian")
    p = torch.tensor([[2.0, math.log(math.e - 1)]])  # softplus^-1(1): scale 1 (+1e-4)
    exact = torch.tensor([2 + (1 + 1e-4) * stats.norm.ppf(q) for q in levels], dtype=torch.float64)
    assert_within(
        gauss.quantiles(p, levels)[0], exact, torch.float32, 8, "Gaussian quantiles"
    )  # softplus, ppf, scale, shift
    t = ForecastOutput("student_t", num_samples=200_000)
    p = torch.tensor([[0.0, math.log(math.e - 1), math.log(math.e**2 - 1)]])  # df = 2 + 2 = 4
    torch.manual_seed(0)
    # quantiles of 200,000 draws: a sample quantile's standard error is sqrt(q (1 - q) / n) / density(x_q); 5 of them
    exact = torch.tensor([stats.t.ppf(q, 4) for q in levels], dtype=torch.float64)
    errors = torch.tensor([5 * math.sqrt(q * (1 - q) / 200_000) / stats.t.pdf(stats.t.ppf(q, 4), 4) for q in levels])
    assert ((t.quantiles(p, levels)[0].double() - exact).abs() <= errors).all()
    quant = ForecastOutput("quantile", quantiles=[0.9, 0.1, 0.5])  # unordered levels; crossing outputs are sorted
    out = quant.quantiles(torch.tensor([[3.0, 1.0, 2.0]]), [0.1, 0.3, 0.5, 0.95])[0]
    assert_within(out, torch.tensor([1.0, 1.5, 2.0, 3.0]), torch.float32, 4, "interpolated quantile levels")
    assert quant.point(torch.tensor([[3.0, 1.0, 2.0]])).item() == 2.0
    with pytest.raises(SeqzooError, match="task.output=beta is not one of"):
        ForecastOutput("beta")


def test_scores_and_baselines_by_hand():
    context = torch.tensor([[1.0, 2, 3, 4, 5, 6]]).unsqueeze(-1)  # (B=1, L=6, K=1)
    assert naive(context, 3).flatten().tolist() == [6, 6, 6]
    assert seasonal_naive(context, 5, 2).flatten().tolist() == [5, 6, 5, 6, 5]
    y = torch.tensor([[[2.0], [4.0]]])
    f = torch.tensor([[[1.0], [4.0]]])
    scores = ForecastScores()
    scores.update(f, y, torch.tensor([[0.5]]))
    got = scores.compute()
    assert got["mae"].item() == pytest.approx(0.5) and got["rmse"].item() == pytest.approx(math.sqrt(0.5))
    assert got["smape"].item() == pytest.approx((200 * 1 / 3 + 0) / 2)
    assert got["mase"].item() == pytest.approx(1.0)  # MAE 0.5 over an in-sample seasonal error of 0.5
    prob = ForecastScores(probabilistic=True)
    q = torch.tensor(CRPS_LEVELS).expand(1, 2, 1, -1) * 4  # quantiles 0.2 .. 3.8 at both steps
    prob.update(f, y, torch.tensor([[0.5]]), q)
    assert prob.compute()["coverage80"].item() == pytest.approx(0.5)  # 2 inside [0.4, 3.6], 4 outside


def tiny(method, output="point", baseline=None):
    torch.manual_seed(0)
    decoder = (lambda **kw: RNNDecoder(cell="gru", hidden_size=8, **kw)) if method == "autoregressive" else None
    return Forecast(
        lambda input_size: GRU(input_size, 8),
        decoder,
        input_size=3,
        num_targets=1,
        future_size=2,
        horizon=5,
        season=2,
        method=method,
        output=output,
        num_samples=7,
        baseline=baseline,
    ).eval()


def batch(B=4, L=6, H=5):
    g = torch.Generator().manual_seed(0)
    return {
        "inputs": torch.randn(B, L, 3, generator=g),
        "future": torch.randn(B, H, 2, generator=g),
        "targets": torch.randn(B, H, 1, generator=g) * 10 + 50,
        "loc": torch.full((B, 1), 50.0),
        "scale": torch.full((B, 1), 10.0),
        "mase_scale": torch.ones(B, 1),
    }


@pytest.mark.parametrize("baseline", [None, "seasonal_naive"])
def test_generation_equals_teacher_forcing_on_its_own_path(baseline):
    task, b = tiny("autoregressive", baseline=baseline), batch()
    path = task.generate(b, 1)[0]  # (B, H, K) scaled, each step fed the one before
    teacher_forced = task.out.point(task.params(b, path))  # the same inputs, all at once
    depth = chain_depth(task, 6 + 5)  # the batch's context and horizon
    assert_within(teacher_forced, path, torch.float32, depth, "teacher forcing against generation", both=True)
    point, q = task.forecast(b)
    assert_within(point, path * 10 + 50, torch.float32, depth + 2, "the forecast on the original scale", both=True)
    assert q is None


@pytest.mark.parametrize(
    "method,output",
    [
        ("direct", "point"),
        ("direct", "quantile"),
        ("direct", "gaussian"),
        ("autoregressive", "point"),
        ("autoregressive", "quantile"),
    ],
)
def test_a_baseline_forecaster_starts_as_its_baseline(method, output):
    """(A Gaussian's sample paths spread around the baseline, so only its direct point is exact.)"""
    task, b = tiny(method, output, baseline="seasonal_naive"), batch()  # its head starts at zero: no correction yet
    context = b["inputs"][:, :, :1] * 10 + 50  # the raw context (loc 50, scale 10)
    point, _ = task.forecast(b)
    assert_within(
        point, seasonal_naive(context, 5, 2), torch.float32, 8, "a forecaster at its baseline", both=True
    )  # scaled and back
    with pytest.raises(SeqzooError, match="task.baseline=mean is not one of null, auto, naive, seasonal_naive"):
        tiny("direct", baseline="mean")


def test_the_auto_baseline_repeats_a_known_season_and_nothing_else():
    assert tiny("direct", baseline="auto").baseline == "seasonal_naive"  # season 2
    yearly = Forecast(lambda input_size: GRU(input_size, 8), input_size=3, horizon=5, season=1, baseline="auto")
    assert yearly.baseline is None and yearly.base(batch()) is None


@pytest.mark.parametrize("method", ["direct", "autoregressive"])
@pytest.mark.parametrize("output", ["quantile", "gaussian", "student_t"])
def test_probabilistic_forecasts_come_back_on_the_original_scale(method, output):
    task, b = tiny(method, output), batch()
    point, q = task.forecast(b)
    assert point.shape == (4, 5, 1) and q.shape == (4, 5, 1, len(CRPS_LEVELS))
    assert (
        q.diff(dim=-1) >= 0
    ).all()  # quantiles never cross: sorted, then scaled by a positive number (rounding keeps order)
    assert 20 < point.mean().item() < 80  # around the loc of 50, not the scaled space's 0
    rows = task.predict_step(b, 0)
    assert len(rows[0]["forecast"]) == 5 and len(rows[0]["q0.9"]) == 5


def test_autoregressive_needs_a_decoder():
    with pytest.raises(SeqzooError, match="decoder=<family>"):
        Forecast(lambda input_size: GRU(input_size, 8), None, method="autoregressive")


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:.*self.log.*")
@pytest.mark.parametrize("family", config_names("decoder"))
def test_every_family_forecasts_in_the_decoder_role(tmp_path: pathlib.Path, family):
    loss = overfit_loss(
        tmp_path, "forecast", ["model=gru", f"decoder={family}", "task.method=autoregressive", "decoder.dropout=0"]
    )
    assert loss < 0.02, f"{family} decoder: loss {loss:.4f}"
