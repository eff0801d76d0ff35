"""Forecasting data: a user's long-format file becomes chronological, leak-free windows, or one message naming
what is wrong with it; the packaged series read from their packages' files."""

import math

import numpy as np
import pandas as pd
import pytest
import torch

from seqzoo.data import packaged_series
from seqzoo.data.series import SeriesDataModule, calendar_cycles, calendar_features
from seqzoo.data.series_frame import season_of
from seqzoo.errors import SeqzooError
from tests.data.fixtures import series_file
from tests.tolerance import assert_within


def module(frame_or_path, **kwargs) -> SeriesDataModule:
    source = {"frame": frame_or_path} if isinstance(frame_or_path, pd.DataFrame) else {"path": str(frame_or_path)}
    defaults = dict(time="date", series_id="store", targets=["sales"], covariates=["price"], context=28, horizon=7)
    dm = SeriesDataModule(**source, **{**defaults, **kwargs})
    dm.setup("fit")
    return dm


def daily(n=120, **columns) -> pd.DataFrame:
    frame = pd.DataFrame({"date": pd.date_range("2024-01-01", periods=n), "sales": np.arange(n, dtype=float)})
    for k, v in columns.items():
        frame[k] = v
    return frame


def test_windows_are_chronological_and_targets_never_cross_a_split(tmp_path):
    dm = module(series_file(tmp_path), eval_stride=3)
    for k, (n_train, n_val, n) in enumerate(dm.bounds):
        origins = {split: [o for s, o in dm.splits[split].pairs if s == k] for split in ("train", "val", "test")}
        assert max(origins["train"]) + dm.horizon <= n_train and min(origins["train"]) >= dm.context
        assert min(origins["val"]) >= n_train and max(origins["val"]) + dm.horizon <= n_val
        assert min(origins["test"]) >= n_val and max(origins["test"]) + dm.horizon <= n
        assert np.diff(origins["test"]).tolist() == [3] * (len(origins["test"]) - 1)  # rolling origin
        assert len(origins["test"]) > 1


def test_items_hold_the_context_and_the_raw_horizon(tmp_path):
    dm = module(series_file(tmp_path))
    s, o = dm.splits["test"].pairs[0]
    item = dm.splits["test"][0]
    values = dm.series[s].values
    assert torch.equal(item["targets"], torch.tensor(values[o : o + 7], dtype=torch.float32))
    context = item["inputs"][:, :1] * item["scale"] + item["loc"]  # the scaled targets undo to the raw context
    assert_within(
        context, values[o - 28 : o], torch.float32, 4, "the context scaled and back"
    )  # subtract, divide, multiply, add
    assert item["inputs"].shape[1] == 1 + item["future"].shape[1]  # the features of each context step follow
    assert torch.equal(item["inputs"][:, 1:], torch.tensor(dm.features[s][o - 28 : o], dtype=torch.float32))
    assert torch.equal(item["future"], torch.tensor(dm.features[s][o : o + 7], dtype=torch.float32))


def test_lagged_targets_are_known_features_scaled_like_the_context(tmp_path):
    dm = module(series_file(tmp_path), lags=[14, 7])
    for split in ("train", "test"):
        s, o = dm.splits[split].pairs[0]
        item = dm.splits[split][0]
        values = torch.tensor(dm.series[s].values[:, 0], dtype=torch.float32)
        for j, lag in enumerate(dm.lags):  # sorted: 7, then 14; then the covariate and calendar features
            raw = torch.cat([item["inputs"][:, 1 + j], item["future"][:, j]]) * item["scale"] + item["loc"]  # (L + H,)
            assert_within(raw, values[o - 28 - lag : o + 7 - lag], torch.float32, 4, f"lag {lag} scaled and back")
        assert torch.equal(item["future"][:, 2:], torch.tensor(dm.features[s][o : o + 7], dtype=torch.float32))
    assert min(o for _, o in dm.splits["train"].pairs) == 28 + 14  # the first window reads the longest lag's values
    assert dm.info["future_size"] == 2 + dm.features[0].shape[1] and dm.info["input_size"] == 1 + dm.info["future_size"]
    with pytest.raises(SeqzooError, match="lag shorter than data.horizon=7"):
        module(series_file(tmp_path), lags=[3])


@pytest.mark.parametrize("scaling", ["window", "train"])
def test_nothing_fitted_looks_at_the_future(tmp_path, scaling):
    frame = pd.read_csv(series_file(tmp_path))
    dm = module(frame, scaling=scaling)
    changed = frame.copy()
    n = len(frame) // 2
    held_out = np.zeros(len(frame), dtype=bool)
    for (_, _, _), idx in zip(dm.bounds, [np.arange(n), np.arange(n, 2 * n)]):
        held_out[idx[dm.bounds[0][0] :]] = True  # every validation and test row of each store
    changed.loc[held_out, ["sales", "price"]] *= 100
    other = module(changed, scaling=scaling)
    assert other.fitted == dm.fitted
    first = dm.splits["val"][0]  # its context lies in the training period: unchanged, and so its scaling
    for key in ("inputs", "loc", "scale", "mase_scale"):
        assert torch.equal(other.splits["val"][0][key], first[key])


def test_mase_scale_is_the_in_sample_seasonal_naive_error(tmp_path):
    dm = module(series_file(tmp_path), season=7)
    train = dm.series[0].values[: dm.bounds[0][0], 0]
    assert dm.fitted["mase_scale"][0][0] == pytest.approx(np.abs(train[7:] - train[:-7]).mean())
    assert module(series_file(tmp_path)).m == 7  # daily data: a weekly season by default


def test_numpy_files_and_a_single_series(tmp_path):
    np.save(tmp_path / "x.npy", np.sin(np.arange(300) / 5.0)[:, None].repeat(2, 1))
    dm = SeriesDataModule(path=str(tmp_path / "x.npy"), targets=["c0"], covariates=["c1"], context=20, horizon=5)
    dm.setup()
    assert dm.info["input_size"] == 2 and dm.info["future_size"] == 1 and len(dm.splits["test"]) > 1
    np.save(tmp_path / "many.npy", np.zeros((3, 100, 1)) + np.arange(3)[:, None, None])
    many = SeriesDataModule(path=str(tmp_path / "many.npy"), series_id="series", targets=["c0"], context=10, horizon=5)
    many.setup()
    assert len(many.series) == 3


@pytest.mark.parametrize(
    "change,message",
    [
        (
            lambda f: f.rename(columns={"sales": "Sales"}),
            r"no column 'sales' for data.targets \(did you mean 'Sales'\?\); the columns are: date, Sales",
        ),
        (lambda f: f.iloc[[1, 0, *range(2, len(f))]], "time goes backwards at row 1"),
        (lambda f: pd.concat([f.iloc[:5], f.iloc[4:]]), "appears twice"),
        (lambda f: f.drop(index=50), "irregular spacing: 2024-02-19 00:00:00 -> 2024-02-21 00:00:00"),
        (
            lambda f: f.assign(sales=f.sales.where(f.index != 30)),
            "1 missing values.*column 'sales' at row 30.*data.missing=interpolate",
        ),
        (lambda f: f.assign(sales=f.sales.where(f.index != 30, np.inf)), "inf in column 'sales' at row 30"),
        (
            lambda f: f.assign(sales=f.sales.astype(str).where(f.index != 3, "n/a")),
            "column 'sales' holds 'n/a' at row 3",
        ),
        (lambda f: f.iloc[:40], "40 steps split into train 32, val 4, test 4"),
    ],
)
def test_what_is_wrong_with_a_file_is_said_once_and_clearly(change, message):
    with pytest.raises(SeqzooError, match=message):
        module(change(daily()), series_id=None, covariates=[])


def test_missing_values_filled_by_the_chosen_policy():
    frame = daily(sales=[1.0, np.nan, 3.0, *np.arange(3.0, 120.0)])
    interpolated = module(frame, series_id=None, covariates=[], missing="interpolate").series[0].values[:3, 0]
    forward = module(frame, series_id=None, covariates=[], missing="ffill").series[0].values[:3, 0]
    assert interpolated.tolist() == [1.0, 2.0, 3.0] and forward.tolist() == [1.0, 1.0, 3.0]


def test_irregular_rows_accepted_as_steps_when_asked():
    frame = daily().drop(index=[10, 11, 50])
    assert len(module(frame, series_id=None, covariates=[], spacing="steps").series[0].values) == 117


def test_seasons_and_calendar_features_follow_the_frequency():
    assert [season_of(f) for f in ("30min", "h", "D", "W-SUN", "MS", "QS-JAN", None)] == [48, 24, 7, 52, 12, 4, 1]
    half_hours = pd.date_range("2024-01-01", periods=96, freq="30min")
    cal = calendar_features(half_hours, "30min")
    assert cal.shape == (96, 6)  # time of day, day of week, day of year
    assert cal[0, 0] == pytest.approx(0) and cal[12, 0] == pytest.approx(math.sin(math.pi / 2))  # 06:00: a quarter day
    assert calendar_features(pd.date_range("2024-01-01", periods=12, freq="MS"), "MS").shape == (12, 2)
    assert calendar_cycles(pd.date_range("2024-01-01", periods=12, freq="D"), "D") == ["week", "year"]


def test_calendar_cycles_are_those_the_training_period_covers_whole(tmp_path):
    """Nine weeks of training days: the day of week is a feature, the day of year (a date stamp there) is not,
    and a forecast from a file later uses the cycles fitted, whatever the length of its history."""
    dm = module(daily(), series_id=None, covariates=[], val_size=14, test_size=14)  # 92 training days
    assert dm.fitted["calendar"] == ["week"]
    assert torch.equal(
        dm.splits["test"][0]["future"],
        torch.tensor(
            calendar_features(dm.series[0].times, "D", ["week"])[dm.splits["test"].pairs[0][1] :][:7],
            dtype=torch.float32,
        ),
    )
    assert module(daily(800), series_id=None, covariates=[]).fitted["calendar"] == ["week", "year"]
    path = tmp_path / "history.csv"
    daily(40).to_csv(path, index=False)
    assert dm.encode_file(str(path))[1][0]["future"].shape == (7, 2)


@pytest.mark.parametrize(
    "reader,length,column",
    [
        ("taylor_demand", 4032, "demand"),
        ("msft_prices", 7983, "Close"),
        ("co2_weekly", 2284, "co2"),
        ("airline_passengers", 144, "Passengers"),
    ],
)
def test_packaged_series_are_read_from_their_packages(reader, length, column):
    frame = getattr(packaged_series, reader)()
    assert len(frame) == length and frame[column].notna().sum() > 0.9 * length


def test_a_missing_package_names_the_extra(monkeypatch):
    monkeypatch.setattr(packaged_series.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(SeqzooError, match=r'pip install -e "\.\[forecast\]"'):
        packaged_series.taylor_demand()


def history(tmp_path, future_rows=7):
    """The fixture's first 120 days per store, then ``future_rows`` days with the price known and sales empty."""
    frame = pd.read_csv(series_file(tmp_path))
    parts = []
    for _, g in frame.groupby("store"):
        h = g.iloc[: 120 + future_rows].copy()
        h.loc[h.index[120:], "sales"] = np.nan
        parts.append(h)
    path = tmp_path / "history.csv"
    pd.concat(parts).to_csv(path, index=False)
    return path, frame


def test_predict_reads_each_series_history_and_its_known_future(tmp_path):
    dm = module(series_file(tmp_path))
    path, frame = history(tmp_path)
    names, items = dm.encode_file(str(path))
    assert names == ["store=a", "store=b"]
    a = frame[frame.store == "a"]
    context = items[0]["inputs"][:, 0] * items[0]["scale"] + items[0]["loc"]
    assert_within(
        context, torch.tensor(a.sales.to_numpy()[92:120]), torch.float32, 4, "a history's context scaled and back"
    )
    future_price = (a.price.to_numpy()[120:127] - dm.fitted["cov_mean"][0]) / dm.fitted["cov_std"][0]
    assert torch.equal(items[0]["future"][:, 0], torch.tensor(future_price, dtype=torch.float32))
    assert torch.equal(
        items[0]["future"][:, 1:], torch.tensor(dm.features[0][120:127, 1:], dtype=torch.float32)
    )  # calendar
    with pytest.raises(
        SeqzooError, match=r"end the series with 7 rows whose covariates are filled and targets empty \(3 found\)"
    ):
        dm.encode_file(str(history(tmp_path, future_rows=3)[0]))


def test_predict_with_lags_reads_the_lags_history_before_the_context(tmp_path):
    dm = module(series_file(tmp_path), lags=[7])
    path, frame = history(tmp_path)
    items = dm.encode_file(str(path))[1]
    a = frame[frame.store == "a"].sales.to_numpy()
    lagged = (
        torch.cat([items[0]["inputs"][:, 1], items[0]["future"][:, 0]]) * items[0]["scale"] + items[0]["loc"]
    )  # (L + H,)
    assert_within(lagged, torch.tensor(a[92 - 7 : 127 - 7]), torch.float32, 4, "a history's lag scaled and back")
    short = pd.read_csv(path).groupby("store").tail(30 + 7)  # 30 rows of history, then the known future's 7
    short.to_csv(tmp_path / "short.csv", index=False)
    with pytest.raises(
        SeqzooError, match=r"30 rows of history; the model reads data.context=28 steps and values data.lags=\[7\]"
    ):
        dm.encode_file(str(tmp_path / "short.csv"))


def test_parquet_without_pyarrow_and_unknown_files_are_named(tmp_path, monkeypatch):
    from seqzoo.data import series_frame

    def no_pyarrow(path):
        raise ImportError("Unable to find a usable engine; tried using: 'pyarrow', 'fastparquet'.")

    monkeypatch.setattr(series_frame.pd, "read_parquet", no_pyarrow)
    (tmp_path / "x.parquet").write_bytes(b"PAR1")
    with pytest.raises(SeqzooError, match="pip install pyarrow"):
        series_frame.read_frame(tmp_path / "x.parquet")
    (tmp_path / "x.xlsx").write_bytes(b"")
    with pytest.raises(SeqzooError, match="unknown file type '.xlsx'; give a .csv, .parquet, .npy or .npz file"):
        series_frame.read_frame(tmp_path / "x.xlsx")
    with pytest.raises(SeqzooError, match="no such file"):
        series_frame.read_frame(tmp_path / "missing.csv")


def test_hostile_series_files_each_get_one_message_with_the_fix(tmp_path):
    frame = pd.read_csv(series_file(tmp_path))
    blank = frame.copy()
    blank.loc[[5, 9], "store"] = np.nan
    blank.to_csv(tmp_path / "blank.csv", index=False)
    with pytest.raises(SeqzooError, match=r"2 rows have no 'store' \(the first is row 5\).*Nothing was dropped"):
        module(tmp_path / "blank.csv")
    frame.iloc[:0].to_csv(tmp_path / "header.csv", index=False)
    with pytest.raises(SeqzooError, match="holds no rows"):
        module(tmp_path / "header.csv")
    np.save(tmp_path / "empty.npy", np.zeros((0,)))
    with pytest.raises(SeqzooError, match="holds no rows"):
        module(tmp_path / "empty.npy", time=None, series_id=None, targets=["c0"], covariates=[])


def test_local_times_across_a_daylight_saving_change_are_read_once_as_utc(tmp_path, capsys):
    local = pd.date_range("2024-03-20", periods=24 * 40, freq="h", tz="Europe/Berlin")  # DST starts on 31 March
    values = np.sin(np.arange(len(local)) * 2 * np.pi / 24) + 5
    pd.DataFrame({"date": local.strftime("%Y-%m-%dT%H:%M:%S%z"), "sales": values}).to_csv(
        tmp_path / "tz.csv", index=False
    )
    dm = module(tmp_path / "tz.csv", series_id=None, covariates=[], context=48, horizon=24)
    assert dm.freq == "h" and dm.m == 24  # one clock, evenly spaced: the offset change is not a gap
    assert dm.series[0].times[0] == pd.Timestamp("2024-03-19 23:00")  # 00:00 in Berlin (UTC+1)
    assert capsys.readouterr().out.count("converted to UTC") == 1


def test_an_empty_target_inside_a_predict_history_is_not_dropped(tmp_path):
    dm = module(series_file(tmp_path))
    path, _ = history(tmp_path)
    hist = pd.read_csv(path)
    hist.loc[hist.index[60], "sales"] = np.nan  # inside store a's history, not at its end
    hist.to_csv(tmp_path / "gap.csv", index=False)
    with pytest.raises(
        SeqzooError, match=r"1 missing values \(NaN\), the first in column 'sales' at row 60.*data.missing=interpolate"
    ):
        dm.encode_file(str(tmp_path / "gap.csv"))
    dm.missing = "interpolate"
    names, items = dm.encode_file(str(tmp_path / "gap.csv"))
    assert names == ["store=a", "store=b"] and len(items) == 2


def test_a_checkpoint_of_other_series_is_refused_naming_both(tmp_path):
    trained = module(series_file(tmp_path))
    frame = pd.read_csv(series_file(tmp_path))
    frame["store"] = frame["store"].map({"a": "north", "b": "south"})
    frame.to_csv(tmp_path / "other.csv", index=False)
    other = SeriesDataModule(
        path=str(tmp_path / "other.csv"),
        time="date",
        series_id="store",
        targets=["sales"],
        covariates=["price"],
        context=28,
        horizon=7,
    )
    other.load_state_dict(trained.state_dict())
    with pytest.raises(
        SeqzooError, match="trained on the series store=a, store=b; this file holds store=north, store=south"
    ):
        other.setup("test")
