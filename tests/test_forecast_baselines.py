"""The statistical baselines of the forecasting benchmark: each origin's forecast is the library's own, fitted on
exactly the history before that origin, and lines up with the test window's targets."""

import numpy as np
import pandas as pd
import pytest
import torch
from hydra.utils import instantiate

from seqzoo.forecast_baselines import METHODS, fit_predict, rolling
from tests.conftest import make_cfg

pytest.importorskip("statsmodels")
pytest.importorskip("pmdarima")


@pytest.fixture(scope="module")
def airline(tmp_path_factory):
    cfg = make_cfg(tmp_path_factory.mktemp("run"), ["task=forecast", "data=airline", "data.eval_stride=12"])
    dm = instantiate(cfg.data)
    dm.setup("fit")
    return dm


def test_each_origin_is_fitted_on_the_history_before_it_and_matches_its_targets(airline):
    from sktime.forecasting.ets import AutoETS

    out = rolling(airline, "AutoETS")
    windows = [airline.splits["test"][i] for i in range(len(airline.splits["test"]))]
    assert out["point"].shape == (len(windows), airline.horizon)
    assert out["quantiles"].shape == (len(windows), airline.horizon, 19)
    for (s, origin), window, point in zip(airline.splits["test"].pairs, windows, out["point"]):
        history = airline.series[s].values[:origin, 0]
        # the window's targets are the steps right after that history
        assert np.array_equal(window["targets"][:, 0].numpy(), airline.series[s].values[origin : origin + 12, 0])
        own = AutoETS(auto=True, sp=12, information_criterion="aicc", n_jobs=1).fit(pd.Series(history))
        np.testing.assert_allclose(point, own.predict(fh=list(range(1, 13))).values, rtol=1e-9)


SEARCHES = {"AutoARIMA"}  # pmdarima's seasonal stepwise search: a minute per fit


@pytest.mark.parametrize("method", [pytest.param(m, marks=pytest.mark.slow) if m in SEARCHES else m for m in METHODS])
def test_every_method_forecasts_a_seasonal_series_better_than_its_mean(method):
    """A clean seasonal series with a trend: each method's median beats the history's mean by far, its quantiles
    are ordered and bracket the point forecast."""
    t = np.arange(96)
    y = 50 + 0.3 * t + 5 * np.sin(2 * np.pi * t / 12) + np.random.default_rng(0).normal(0, 0.3, 96)
    truth = 50 + 0.3 * np.arange(96, 108) + 5 * np.sin(2 * np.pi * np.arange(96, 108) / 12)
    point, q = fit_predict(method, y, 12, 12)
    assert np.abs(point - truth).mean() < 0.25 * np.abs(y.mean() - truth).mean()
    q = np.sort(q, 1)
    assert (q[:, 0] <= point + 1e-9).all() and (point <= q[:, -1] + 1e-9).all()


def test_an_unknown_method_is_named():
    with pytest.raises(ValueError, match="'ARIMA' is not one of AutoETS"):
        fit_predict("ARIMA", np.arange(30.0), 3, 1)


def test_the_scores_of_a_baseline_use_the_tasks_metrics(airline):
    """The same metric code scores networks and baselines: a perfect forecast has MASE 0 and full coverage."""
    from seqzoo.tasks.forecast_metrics import ForecastScores

    batch = [airline.splits["test"][i] for i in range(len(airline.splits["test"]))]
    targets = torch.stack([w["targets"] for w in batch])
    scores = ForecastScores(probabilistic=True)
    q = targets.unsqueeze(-1).repeat(1, 1, 1, 19)
    scores.update(targets, targets, torch.stack([w["mase_scale"] for w in batch]), q)
    got = scores.compute()
    assert float(got["mase"]) == 0 and float(got["coverage80"]) == 1
