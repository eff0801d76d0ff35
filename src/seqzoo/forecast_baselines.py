"""The statistical forecasters a practitioner compares a network against, on the network's own test windows: each
is fitted afresh at every forecast origin on the history before it (at most ``history`` steps) and forecasts the
horizon, with quantiles for CRPS and interval coverage.

- ``AutoETS``: exponential smoothing with error, trend and season chosen by AICc (sktime's ``AutoETS``, on
  statsmodels' ETS; multiplicative forms only for positive series);
- ``AutoARIMA``: pmdarima's stepwise search (through sktime), seasonal with period m;
- ``Theta``: the Theta method (Assimakopoulos & Nikolopoulos 2000; sktime's ``ThetaForecaster``), the series
  deseasonalised multiplicatively first when m > 1 and it is positive;
- ``Holt-Winters`` and ``Holt-Winters damped``: statsmodels' additive trend (damped) and additive season,
  quantiles from 200 simulated paths.

A season is used only when the history holds two of them. ``AutoETS`` models a season only up to m = 24, as
R's forecast::ets does (ETS estimates m initial states: a rolling seasonal ETS on weekly co2, m = 52, had not
finished in 19 minutes), and so does ``AutoARIMA``'s seasonal search (one fit with m = 48 or 52 takes minutes):
half-hourly and weekly series get their non-seasonal forms, while Theta (deseasonalised by classical
decomposition) and Holt-Winters keep the season. Needs the
``forecast`` extra (statsmodels, pmdarima) and sktime (a seqzoo dependency).
"""

import time
import warnings

import numpy as np

from seqzoo.tasks.forecast_metrics import CRPS_LEVELS

METHODS = (
    "AutoETS",
    "AutoARIMA",
    "Theta",
    "Holt-Winters",
    "Holt-Winters damped",
)  # no commas: --baselines splits on them
MAX_SEASON = 24  # AutoETS and AutoARIMA: no seasonal form above it (R's forecast package does the same)


def seasonal(y: np.ndarray, m: int) -> bool:
    return m > 1 and len(y) >= 2 * m


def fit_predict(method: str, y: np.ndarray, horizon: int, m: int) -> tuple[np.ndarray, np.ndarray]:
    """One origin: the history ``y`` (T,) -> point forecast (H,) and quantiles (H, len(CRPS_LEVELS))."""
    if method.startswith("Holt-Winters"):
        return holt_winters(y, horizon, m, damped=method.endswith("damped"))
    import pandas as pd
    from sktime.forecasting.arima import AutoARIMA
    from sktime.forecasting.ets import AutoETS
    from sktime.forecasting.theta import ThetaForecaster

    season = m if seasonal(y, m) else 1
    short = season if season <= MAX_SEASON else 1  # the season AutoETS and AutoARIMA model
    positive = bool((y > 0).all())
    make = {
        "AutoETS": lambda: AutoETS(auto=True, sp=short, information_criterion="aicc", n_jobs=1),
        "AutoARIMA": lambda: AutoARIMA(
            sp=short,
            seasonal=short > 1,
            suppress_warnings=True,
            error_action="ignore",
        ),
        "Theta": lambda: ThetaForecaster(sp=season, deseasonalize=season > 1 and positive),
    }
    if method not in make:
        raise ValueError(f"{method!r} is not one of {', '.join(METHODS)}")
    fh = list(range(1, horizon + 1))
    model = make[method]().fit(pd.Series(y))
    point = np.asarray(model.predict(fh=fh), dtype=float).reshape(horizon)
    try:
        q = model.predict_quantiles(fh=fh, alpha=CRPS_LEVELS)
    except TypeError:  # statsmodels 0.15's simulated ETS intervals (multiplicative forms) pass a wrong keyword
        paths = model._fitted_forecaster.simulate(horizon, anchor="end", repetitions=500, rng=np.random.default_rng(0))
        q = np.quantile(np.asarray(paths).reshape(horizon, -1), CRPS_LEVELS, axis=1).T  # (H, levels)
    return point, np.asarray(q, dtype=float).reshape(horizon, len(CRPS_LEVELS))


def holt_winters(y: np.ndarray, horizon: int, m: int, damped: bool) -> tuple[np.ndarray, np.ndarray]:
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    season = "add" if seasonal(y, m) else None
    fit = ExponentialSmoothing(
        y, trend="add", damped_trend=damped, seasonal=season, seasonal_periods=m if season else None
    ).fit()
    paths = fit.simulate(horizon, repetitions=200, error="add", anchor="end", random_state=0)  # (H, 200)
    return np.asarray(fit.forecast(horizon)), np.quantile(paths, CRPS_LEVELS, axis=1).T


def rolling(dm, method: str, history: int = 2000) -> dict:
    """Every test origin of a set-up ``SeriesDataModule`` (its first target) -> {"point" (B, H), "quantiles"
    (B, H, levels), "seconds"}, in the order of ``dm.splits["test"]``'s windows."""
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    points, quantiles, start = [], [], time.perf_counter()
    for s, origin in dm.splits["test"].pairs:
        y = np.asarray(dm.series[s].values[max(0, origin - history) : origin, 0], dtype=float)
        with warnings.catch_warnings():
            for category in (ConvergenceWarning, FutureWarning, UserWarning, RuntimeWarning):
                warnings.simplefilter("ignore", category)
            point, q = fit_predict(method, y, dm.horizon, dm.m)
        points.append(point)
        quantiles.append(np.sort(q, axis=1))  # simulated or fitted quantiles in level order
    return {"point": np.array(points), "quantiles": np.array(quantiles), "seconds": time.perf_counter() - start}
