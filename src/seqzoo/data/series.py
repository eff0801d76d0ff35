"""Forecasting data: windows of a context of ``context`` steps and a horizon of ``horizon`` steps cut from one
or many real-valued series (a user's file, ``series_frame.py``, or a packaged data set).

Splits are chronological, per series: the last ``test_size`` steps are test, the ``val_size`` before them
validation, the rest training. A window belongs to the split its *targets* fall in, whole: no window's
targets cross a boundary (its context may reach back into earlier periods: the past is known). Training
windows start every ``stride`` steps; validation and test windows are forecast origins every
``eval_stride`` steps (rolling origin: several origins, not one).

Nothing fitted looks at validation or test values: covariate standardisation and MASE's scale (the mean
absolute seasonal difference, lag ``season``) come from each series' training period; target scaling is
``window`` (each window's context mean and standard deviation, the default: series of any level) or
``train`` (each series' training period).

An item: ``inputs`` (context, K + F) the scaled targets then the future-known features at each context step;
``future`` (horizon, F) the known features of the horizon: the targets ``lags`` steps back (scaled like the
context; each lag at least the horizon, so its value is known at every step ahead), covariate columns, and,
when ``calendar``, sin/cos of the calendar cycles that the training period covers whole; ``targets``
(horizon, K) raw; ``loc``, ``scale`` (K,) the target scaling; ``mase_scale`` (K,); ``series`` and ``origin``
(which window, for plots and predictions). A lag of the season (``lags: [336]`` for a weekly half-hourly
series) puts last week's value beside each step, so that any family sees the week-on-week change where it
happens instead of remembering a whole season (the lagged inputs of DeepAR, Salinas et al. 2020).
"""

import math

import numpy as np
import pandas as pd
import torch
from torch.utils.data import Dataset

from seqzoo.data.base import SequenceDataModule
from seqzoo.data.series_frame import Series, read_frame, season_of, split_series
from seqzoo.errors import SeqzooError

SCALING = ("window", "train")


CYCLES = {"day": pd.Timedelta(days=1), "week": pd.Timedelta(days=7), "year": pd.Timedelta(days=365)}


def calendar_cycles(times: pd.Index, freq: str | None, span: pd.Timedelta | None = None) -> list[str]:
    """The calendar cycles that vary at this frequency and, given the training period's ``span``, that it covers
    whole: a day-of-year feature on nine summer weeks is a date stamp in disguise, which lets a network learn
    each training day by heart and meets values it never saw in the validation and test periods."""
    if not isinstance(times, pd.DatetimeIndex) or freq is None or len(times) < 2:
        return []
    step = pd.Series(times).diff().median()  # months and years have no fixed length; pandas 3's Day is no Timedelta
    return [name for name, period in CYCLES.items() if step < period and (span is None or span >= period)]


def fitted_cycles(periods: list[pd.Index], freq: str | None) -> list[str]:
    """The calendar cycles that the longest of the training ``periods`` (their timestamps) covers whole."""
    spans = [t[-1] - t[0] for t in periods if isinstance(t, pd.DatetimeIndex) and len(t)]
    return calendar_cycles(periods[0], freq, max(spans)) if spans else []


def calendar_features(times: pd.Index, freq: str | None, cycles: list[str] | None = None) -> np.ndarray:
    """(T, 2 len(cycles)) sin/cos of the time of day, day of week and day of year; by default those that vary at
    this frequency."""
    cycles = calendar_cycles(times, freq) if cycles is None else cycles
    if not cycles:
        return np.zeros((len(times), 0))
    phase = {
        "day": lambda: (times.hour * 60 + times.minute) / 1440.0,
        "week": lambda: times.dayofweek / 7.0,
        "year": lambda: (times.dayofyear - 1) / 365.25,
    }
    return np.stack([f(2 * math.pi * np.asarray(phase[c]())) for c in cycles for f in (np.sin, np.cos)], 1)


def steps(size: float | int, n: int) -> int:
    """A split size: a fraction of the series (0 < size < 1) or a number of steps."""
    return int(round(size * n)) if 0 < size < 1 else int(size)


def as_tensor(a) -> torch.Tensor:
    """float32, copied: the arrays pandas hands over may be read-only."""
    return torch.tensor(np.asarray(a), dtype=torch.float32)


class Windows(Dataset):
    """(series, origin) pairs over arrays held once: an item is cut when asked for."""

    def __init__(self, module: "SeriesDataModule", pairs: list[tuple[int, int]]):
        self.module, self.pairs = module, pairs

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, i: int) -> dict:
        return self.module.window(*self.pairs[i])


class SeriesDataModule(SequenceDataModule):
    mapping = "forecast"

    def __init__(
        self,
        path: str | None = None,
        frame=None,
        time: str | None = None,
        series_id: str | None = None,
        targets: list[str] = ("value",),
        covariates: list[str] = (),
        calendar: bool = True,
        context: int = 96,
        horizon: int = 24,
        stride: int = 1,
        eval_stride: int | None = None,
        val_size: float = 0.1,
        test_size: float = 0.1,
        season: int | None = None,
        lags: list[int] = (),
        missing: str = "error",
        spacing: str = "strict",
        scaling: str = "window",
        name: str | None = None,
        batch_size: int = 32,
        num_workers: int = 0,
    ):
        super().__init__(batch_size, num_workers)
        if (path is None) == (frame is None):
            raise SeqzooError("data=series needs a file: data.path=<your .csv, .parquet or .npy>")
        if scaling not in SCALING:
            raise SeqzooError(f"data.scaling={scaling} is not one of {', '.join(SCALING)}")
        if context < 1 or horizon < 1 or stride < 1:
            raise SeqzooError(
                f"data.context, data.horizon and data.stride must be at least 1 (got {context}, {horizon}, {stride})"
            )
        self.lags = sorted({int(lag) for lag in lags})
        if self.lags and self.lags[0] < horizon:
            raise SeqzooError(
                f"data.lags={list(lags)}: a lag shorter than data.horizon={horizon} is not known at every step "
                f"ahead; use lags of at least {horizon} (the autoregressive decoder already sees the previous step)"
            )
        self.path, self.frame, self.time, self.series_id = path, frame, time, series_id
        self.targets, self.covariates, self.calendar = list(targets), list(covariates), calendar
        self.context, self.horizon, self.stride, self.eval_stride = context, horizon, stride, eval_stride or horizon
        self.val_size, self.test_size, self.season, self.missing, self.spacing = (
            val_size,
            test_size,
            season,
            missing,
            spacing,
        )
        self.scaling, self.name = scaling, name or (str(path) if path else "series")
        self.fitted: dict = {}

    # -- reading ----------------------------------------------------------------------------------------
    def load(self) -> tuple[list[Series], str | None]:
        frame = read_frame(self.path) if self.frame is None else self.frame
        return split_series(
            frame, self.name, self.time, self.series_id, self.targets, self.covariates, self.missing, self.spacing
        )

    def setup(self, stage: str | None = None) -> None:
        if self.splits:
            return
        self.series, freq = self.load()
        self.freq = freq
        self.m = self.season or season_of(freq)
        bounds, pairs = [], {"train": [], "val": [], "test": []}
        for k, s in enumerate(self.series):
            n = len(s.values)
            n_test, n_val = steps(self.test_size, n), steps(self.val_size, n)
            n_train = n - n_val - n_test
            need = self.history + self.horizon
            if n_test < self.horizon or n_val < self.horizon or n_train < need:
                raise SeqzooError(
                    f"{self.name}, {s.name}: {n} steps split into train {n_train}, val {n_val}, test {n_test}; "
                    "each of val and "
                    f"test needs at least data.horizon={self.horizon} steps and train at least data.context + the "
                    "longest of "
                    f"data.lags + data.horizon = {need}: shorten data.context, data.lags or data.horizon, or change "
                    "data.val_size / data.test_size"
                )
            bounds.append((n_train, n_train + n_val, n))
            pairs["train"] += [(k, o) for o in range(self.history, n_train - self.horizon + 1, self.stride)]
            pairs["val"] += [(k, o) for o in range(n_train, n_train + n_val - self.horizon + 1, self.eval_stride)]
            pairs["test"] += [(k, o) for o in range(n_train + n_val, n - self.horizon + 1, self.eval_stride)]
        if self.context < self.m:
            raise SeqzooError(
                f"{self.name}: data.context={self.context} is shorter than the season ({self.m} steps), which the "
                f"seasonal-naive baseline repeats: set data.context >= {self.m}, or data.season to a shorter period"
            )
        self.bounds = bounds
        if not self.fitted:
            self.fitted = self.fit()
        elif self.fitted.get("names") != [s.name for s in self.series]:
            had, now = self.fitted.get("names", []), [s.name for s in self.series]
            raise SeqzooError(
                f"{self.name}: the checkpoint was trained on the series "
                f"{', '.join(had[:5])}{' ...' if len(had) > 5 else ''}; "
                f"this file holds {', '.join(now[:5])}{' ...' if len(now) > 5 else ''}. Its scales and MASE scales "
                "belong to the series it trained on: evaluate on a file with those series, in that order, or "
                "forecast other series with seqzoo-predict (data.scaling=window)"
            )
        self.features = [self.known_features(s) for s in self.series]
        self.splits = {split: Windows(self, p) for split, p in pairs.items()}

    @property
    def history(self) -> int:
        """The steps a window reads before its origin: the context and, before it, the longest lag."""
        return self.context + (self.lags[-1] if self.lags else 0)

    def fit(self) -> dict:
        """Statistics of the training periods only: covariate mean/std, per series target mean/std, MASE scale, and
        the calendar cycles the training period covers whole."""
        train = [s.values[: b[0]] for s, b in zip(self.series, self.bounds)]
        covs = (
            np.concatenate([s.covariates[: b[0]] for s, b in zip(self.series, self.bounds)])
            if self.covariates
            else None
        )
        m = self.m
        mase = [np.abs(v[m:] - v[:-m]).mean(0) if len(v) > m else np.abs(np.diff(v, axis=0)).mean(0) for v in train]
        return {
            "names": [s.name for s in self.series],
            "freq": self.freq,
            "season": m,
            "calendar": fitted_cycles([s.times[: b[0]] for s, b in zip(self.series, self.bounds)], self.freq),
            "cov_mean": covs.mean(0).tolist() if covs is not None else [],
            "cov_std": (covs.std(0) + 1e-8).tolist() if covs is not None else [],
            "loc": [v.mean(0).tolist() for v in train],
            "scale": [(v.std(0) + 1e-8).tolist() for v in train],
            "mase_scale": [np.maximum(s, 1e-8).tolist() for s in mase],
        }

    def known_features(self, s: Series) -> np.ndarray:
        """(T, F): standardised covariates, then calendar features."""
        covs = (
            (s.covariates - np.array(self.fitted["cov_mean"])) / np.array(self.fitted["cov_std"])
            if self.covariates
            else s.covariates
        )
        cycles = self.fitted.get("calendar")  # absent from checkpoints before it was fitted: every cycle, as then
        cal = calendar_features(s.times, self.freq, cycles) if self.calendar else np.zeros((len(s.times), 0))
        return np.concatenate([covs, cal], 1)

    # -- items ------------------------------------------------------------------------------------------
    def window(self, k: int, origin: int) -> dict:
        return self.item(self.series[k].values, self.features[k], origin, k, self.fitted["mase_scale"][k])

    def item(self, values: np.ndarray, f: np.ndarray, origin: int, k: int, mase_scale) -> dict:
        """The window of series ``k`` (its values (T, K) and known features (T, F)) whose horizon starts at
        ``origin``."""
        past = slice(origin - self.context, origin)
        ahead = slice(origin, origin + self.horizon)
        context = values[past]  # (L, K)
        if self.scaling == "window":
            loc = context.mean(0)
            scale = context.std(0) + 1e-3 * (np.abs(loc) + 1)  # a flat context must not blow its horizon up
        else:
            loc, scale = np.array(self.fitted["loc"][k]), np.array(self.fitted["scale"][k])
        at = np.arange(origin - self.context, origin + self.horizon)  # (L + H,) the window's steps
        lagged = [
            (values[at - lag] - loc) / scale for lag in self.lags
        ]  # each (L + H, K): values before the origin only
        f = np.concatenate([*lagged, f[at]], 1)  # (L + H, K len(lags) + F')
        L = self.context
        return {
            "inputs": as_tensor(np.concatenate([(context - loc) / scale, f[:L]], 1)),  # (L, K + F)
            "future": as_tensor(f[L:]),  # (H, F)
            "targets": as_tensor(values[ahead]),  # (H, K)
            "loc": as_tensor(loc),
            "scale": as_tensor(scale),
            "mase_scale": as_tensor(mase_scale),
            "series": torch.tensor(k),
            "origin": torch.tensor(origin),
        }

    def encode_file(self, path: str) -> tuple[list[str], list[dict]]:
        """``seqzoo-predict input=history.csv``: a file with the training file's columns -> one item per series,
        forecasting the ``horizon`` steps after its last row. Covariates are known in advance, so with
        ``covariates`` each series ends with ``horizon`` rows whose targets are empty and covariates filled."""
        frame = read_frame(path)
        future_rows = self.trailing_empty(frame) if set(self.targets) <= set(frame.columns) else None
        history = frame if future_rows is None else frame[~future_rows]
        self.freq = self.fitted.get("freq")
        series, _ = split_series(
            history, str(path), self.time, self.series_id, self.targets, self.covariates, self.missing, self.spacing
        )
        names, items = [], []
        for s in series:
            n = len(s.values)
            if n < self.history:
                raise SeqzooError(
                    f"{path}, {s.name}: {n} rows of history; the model reads data.context={self.context} steps"
                    + (
                        f" and values data.lags={self.lags} steps before them: give at least {self.history} rows"
                        if self.lags
                        else ""
                    )
                )
            ahead = frame[future_rows] if future_rows is not None else frame.iloc[:0]
            if self.series_id:
                ahead = ahead[ahead[self.series_id].astype(str) == s.name.split("=", 1)[1]]
            if self.covariates and len(ahead) < self.horizon:
                raise SeqzooError(
                    f"{path}, {s.name}: covariates {self.covariates} are known-future inputs: end the series with "
                    f"{self.horizon} rows whose covariates are filled and targets empty ({len(ahead)} found)"
                )
            k = (
                self.fitted["names"].index(s.name)
                if self.scaling == "train" and s.name in self.fitted["names"]
                else None
            )
            if self.scaling == "train" and k is None:
                raise SeqzooError(
                    f"{path}: {s.name} was not among the training series; data.scaling=train scales each by its "
                    "training period: forecast known series, or train with data.scaling=window"
                )
            known = (
                ahead[self.covariates].to_numpy(np.float64)[: self.horizon]
                if self.covariates
                else np.zeros((self.horizon, 0))
            )
            future = Series(
                s.name, np.full((self.horizon, len(self.targets)), np.nan), known, self.future_times(s.times, ahead)
            )
            whole = Series(
                s.name,
                np.concatenate([s.values, np.zeros_like(future.values)]),
                np.concatenate([s.covariates, future.covariates]),
                s.times.append(future.times),
            )
            names.append(s.name)
            items.append(self.item(whole.values, self.known_features(whole), n, k or 0, np.ones(len(self.targets))))
        return names, items

    def trailing_empty(self, frame: pd.DataFrame) -> pd.Series:
        """The rows whose targets are all empty at the end of each series: the horizon to forecast. An empty
        target inside the history stays in it, where data.missing decides (refused, or filled), never dropped."""
        empty = frame[self.targets].isna().all(axis=1)
        keys = (
            frame[self.series_id]
            if self.series_id and self.series_id in frame.columns
            else pd.Series(0, index=frame.index)
        )
        rows = pd.Series(np.arange(len(frame)), index=frame.index)
        last = rows[~empty].groupby(keys[~empty]).max()  # each series' last row with a target
        return empty & (rows > keys.map(last).fillna(-1))

    def future_times(self, times: pd.Index, ahead: pd.DataFrame) -> pd.Index:
        """The horizon's timestamps: the future rows' own, else one frequency step after another."""
        if self.time and len(ahead) >= self.horizon:
            return pd.Index(ahead[self.time].iloc[: self.horizon]).astype(times.dtype)
        if isinstance(times, pd.DatetimeIndex) and self.freq:
            return pd.date_range(times[-1], periods=self.horizon + 1, freq=self.freq)[1:]
        return pd.RangeIndex(len(times), len(times) + self.horizon)

    @property
    def info(self) -> dict:
        F = len(self.targets) * len(self.lags) + self.features[0].shape[1]
        return {
            "mapping": self.mapping,
            "max_length": self.context,
            "context": self.context,
            "input_size": len(self.targets) + F,
            "num_targets": len(self.targets),
            "future_size": F,
            "horizon": self.horizon,
            "season": self.m,
        }

    def state_dict(self) -> dict:
        return {"fitted": self.fitted}

    def load_state_dict(self, state: dict) -> None:
        self.fitted = state.get("fitted", {})
