"""A user's numeric series, from the file formats they already have, into clean arrays, or one message that
names what is wrong: a missing column (with the columns found), NaN or inf (where, and the fill policies),
unsorted or duplicate timestamps, irregular spacing.

Long format: one row per (series, time step); a time column, an optional series-id column, one or more
target columns, optional covariate columns. CSV and Parquet are read with pandas (Parquet needs pyarrow);
NumPy files hold one array: ``.npy`` (T,) or (T, C) is one series, (N, T, C) is N series of equal length
(columns named ``c0, c1, ...``, rows are steps).
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from seqzoo.errors import SeqzooError

MISSING = ("error", "ffill", "interpolate")
SPACING = ("strict", "steps")
# seasonal period of a regular calendar frequency (pandas offset names, without multiples): the m of
# seasonal naive and MASE. Half-hourly data: a day is 48 steps.
PERIODS = {"min": 60, "h": 24, "D": 7, "B": 5, "W": 52, "MS": 12, "ME": 12, "M": 12, "QS": 4, "QE": 4, "Q": 4}


@dataclass
class Series:
    """One series: values (T, K) float64 targets, covariates (T, C) float64, times (T,) as read."""

    name: str
    values: np.ndarray
    covariates: np.ndarray
    times: pd.Index


def read_frame(path: str | Path) -> pd.DataFrame:
    path = Path(path)
    if not path.is_file():
        raise SeqzooError(f"data.path={path}: no such file")
    suffix = path.suffix.lower()
    try:
        if suffix in (".csv", ".txt") or path.name.lower().endswith(".csv.gz"):
            return pd.read_csv(path)
        if suffix == ".parquet":
            return pd.read_parquet(path)
        if suffix in (".npy", ".npz"):
            return frame_from_array(np.load(path) if suffix == ".npy" else next(iter(np.load(path).values())))
    except ImportError as e:
        raise SeqzooError(
            f"{path}: reading {suffix} needs a package that is not installed ({e}); pip install pyarrow"
        ) from None
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as e:
        raise SeqzooError(f"{path}: cannot be read as {suffix.lstrip('.')}: {e}") from None
    raise SeqzooError(f"data.path={path}: unknown file type {suffix!r}; give a .csv, .parquet, .npy or .npz file")


def frame_from_array(array: np.ndarray) -> pd.DataFrame:
    """(T,), (T, C) or (N, T, C) -> a long frame with columns series, time, c0 ... c{C-1}."""
    a = np.asarray(array, dtype=np.float64)
    a = a.reshape(1, -1, 1) if a.ndim == 1 else a[None] if a.ndim == 2 else a
    if a.ndim != 3:
        raise SeqzooError(f"a NumPy series file holds (T,), (T, C) or (N, T, C) numbers, not shape {array.shape}")
    n, t, c = a.shape
    frame = pd.DataFrame(a.reshape(n * t, c), columns=[f"c{i}" for i in range(c)])
    frame.insert(0, "time", np.tile(np.arange(t), n))
    frame.insert(0, "series", np.repeat(np.arange(n), t))
    return frame


def check_columns(frame: pd.DataFrame, where: str, **roles: list[str]) -> None:
    found = [str(c) for c in frame.columns]
    for role, names in roles.items():
        for name in names:
            if name not in frame.columns:
                close = [c for c in found if c.lower() == str(name).lower()]
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise SeqzooError(
                    f"{where}: no column {name!r} for data.{role}{hint}; the columns are: {', '.join(found)}"
                )


def parse_times(column: pd.Series) -> tuple[pd.Index, bool]:
    """Datetimes where the column holds dates (strings or datetimes), else numbers as they are; -> (times,
    whether they carried time zones). Times with zones or UTC offsets (local times across a daylight-saving
    change carry two offsets) are converted once to UTC and kept without a zone: one clock, evenly spaced."""
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        return pd.Index(column.to_numpy()), False
    try:
        times = pd.to_datetime(column)
        if isinstance(times.dtype, pd.DatetimeTZDtype):
            return pd.DatetimeIndex(times.dt.tz_convert("UTC").dt.tz_localize(None)), True
        return pd.DatetimeIndex(times), False
    except (ValueError, TypeError) as e:
        try:  # mixed offsets (a daylight-saving change) are read only as UTC
            return pd.DatetimeIndex(pd.to_datetime(column, utc=True).dt.tz_localize(None)), True
        except (ValueError, TypeError):
            raise SeqzooError(
                f"time column {column.name!r}: cannot read {column.iloc[0]!r} as a date or a number ({e})"
            ) from None


def check_times(times: pd.Index, where: str, spacing: str) -> str | None:
    """Sorted, unique and (``spacing=strict``) evenly spaced; -> the pandas frequency of datetimes, if any."""
    empty = np.asarray(pd.isna(times))
    if empty.any():
        raise SeqzooError(f"{where}: the time column is empty at row {int(np.argmax(empty))}; every row needs its time")
    order = np.diff(times.to_numpy()) if len(times) > 1 else np.array([])
    zero = np.zeros((), dtype=order.dtype) if order.dtype.kind == "m" else 0
    if (order < zero).any():
        i = int(np.argmax(order < zero))
        raise SeqzooError(
            f"{where}: time goes backwards at row {i + 1} ({times[i]} then {times[i + 1]}); sort the file by "
            "series and time"
        )
    if (order == zero).any():
        i = int(np.argmax(order == zero))
        raise SeqzooError(
            f"{where}: time {times[i]} appears twice (rows {i} and {i + 1}); one row per step: aggregate duplicates"
        )
    if spacing == "steps" or len(times) < 3:
        return None
    freq = pd.infer_freq(times) if isinstance(times, pd.DatetimeIndex) else None
    if freq is not None or not len(order):
        return freq
    step = pd.Series(order).mode().iloc[0]  # the usual step; the first other one is named
    i = int(np.argmax(order != step))
    if order[i] == step:
        return None  # numbers evenly spaced
    raise SeqzooError(
        f"{where}: irregular spacing: {times[i]} -> {times[i + 1]} where the usual step is "
        f"{pd.Series([step]).iloc[0]}; "
        "fill the gap (resample the file to one row per step, NaN where unknown, with data.missing=interpolate) "
        "or set data.spacing=steps to treat rows as consecutive steps (trading days, sessions)"
    )


def fill_missing(values: np.ndarray, where: str, columns: list[str], policy: str) -> np.ndarray:
    """NaN: refused (error) or filled (ffill: the last known value, the first known one before it; interpolate:
    linear between known neighbours). inf is always refused."""
    if policy not in MISSING:
        raise SeqzooError(f"data.missing={policy} is not one of {', '.join(MISSING)}")
    if np.isinf(values).any():
        step, col = (int(i) for i in np.argwhere(np.isinf(values))[0])
        raise SeqzooError(
            f"{where}: {values[step, col]} in column {columns[col]!r} at row {step}; values must be finite"
        )
    missing = np.isnan(values)
    if not missing.any():
        return values
    if policy == "error":
        step, col = (int(i) for i in np.argwhere(missing)[0])
        raise SeqzooError(
            f"{where}: {int(missing.sum())} missing values (NaN), the first in column {columns[col]!r} at row {step}; "
            "set data.missing=interpolate or data.missing=ffill to fill them, or clean the file"
        )
    if missing.all(axis=0).any():
        raise SeqzooError(f"{where}: column {columns[int(np.argmax(missing.all(axis=0)))]!r} has no value at all")
    frame = pd.DataFrame(values)
    filled = frame.ffill() if policy == "ffill" else frame.interpolate(limit_direction="both")
    return filled.bfill().to_numpy()


def season_of(freq: str | None) -> int:
    """The seasonal period implied by a pandas frequency string (``30min`` -> 48, ``W-SUN`` -> 52), else 1."""
    if not freq:
        return 1
    offset = pd.tseries.frequencies.to_offset(freq)
    base, n = offset.name.split("-")[0], offset.n
    if base == "min":
        return max(1, 24 * 60 // n) if 24 * 60 % n == 0 else 1
    return max(1, PERIODS.get(base, 1) // n) if PERIODS.get(base, 1) % n == 0 else 1


def split_series(
    frame: pd.DataFrame,
    where: str,
    time: str | None,
    series_id: str | None,
    targets: list[str],
    covariates: list[str],
    missing: str,
    spacing: str,
) -> tuple[list[Series], str | None]:
    """A long frame -> its series (in order of first appearance) and their common frequency (None if none)."""
    if spacing not in SPACING:
        raise SeqzooError(f"data.spacing={spacing} is not one of {', '.join(SPACING)}")
    check_columns(
        frame,
        where,
        targets=targets,
        covariates=covariates,
        **{"time": [time] if time else [], "series_id": [series_id] if series_id else []},
    )
    if frame.empty:
        raise SeqzooError(
            f"{where}: holds no rows (a header, or an empty array, and nothing else); give a file with the series' "
            "values"
        )
    numeric = targets + covariates
    for name in numeric:
        if not pd.api.types.is_numeric_dtype(frame[name]):
            bad = pd.to_numeric(frame[name], errors="coerce").isna() & frame[name].notna()
            row = int(np.argmax(bad.to_numpy()))
            raise SeqzooError(f"{where}: column {name!r} holds {frame[name].iloc[row]!r} at row {row}, not a number")
    if series_id and frame[series_id].isna().any():
        rows = np.flatnonzero(frame[series_id].isna().to_numpy())
        raise SeqzooError(
            f"{where}: {len(rows)} rows have no {series_id!r} (the first is row {int(rows[0])}), so they belong to no "
            f"series; fill the column, or drop those rows. Nothing was dropped for you"
        )
    groups = frame.groupby(series_id, sort=False) if series_id else [(None, frame)]
    out, freqs, zoned = [], set(), False
    for key, part in groups:
        name = "series" if key is None else f"{series_id}={key}"
        here = f"{where}, {name}" if key is not None else where
        times, converted = parse_times(part[time]) if time else (pd.RangeIndex(len(part)), False)
        zoned |= converted
        freqs.add(check_times(times, here, spacing))
        values = fill_missing(part[numeric].to_numpy(np.float64), here, numeric, missing)
        out.append(Series(name, values[:, : len(targets)], values[:, len(targets) :], times))
    if zoned:
        print(f"seqzoo: note: {where}: the times carry time zones or UTC offsets; they were converted to UTC")
    return out, (freqs.pop() if len(freqs) == 1 else None)
