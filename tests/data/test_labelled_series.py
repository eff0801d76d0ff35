"""Labelled series for many-to-one and aligned tasks: which label each window gets, splits that keep a window
and its labels inside one period, whole series as examples, regression labels, clear refusals."""

import numpy as np
import pandas as pd
import pytest
import torch

from seqzoo.data.labelled_series import LabelledSeriesDataModule
from seqzoo.errors import SeqzooError
from tests.data.fixtures import activity_file


def module(frame, **kwargs) -> LabelledSeriesDataModule:
    args = dict(series_id="walk", values=["ax", "ay"], label="activity", context=16)
    dm = LabelledSeriesDataModule(frame=frame, **{**args, **kwargs})
    dm.setup()
    return dm


@pytest.fixture
def walks(tmp_path) -> pd.DataFrame:
    return pd.read_csv(activity_file(tmp_path))


def test_window_labels_are_the_last_steps_and_stay_inside_their_split(walks):
    frame = walks.assign(step=walks.groupby("walk").cumcount())
    dm = module(frame, covariates=["step"])  # the step number as an input, to find where each window came from
    assert dm.mapping == "many_to_one" and dm.info["class_names"] == ["rest", "run", "walk"]
    mean, std = dm.fitted["mean"][2], dm.fitted["std"][2]
    for split, (lo, hi) in {"train": (0, 168), "val": (168, 204), "test": (204, 240)}.items():  # 240 steps: 70/15/15 %
        for i in range(len(dm.splits[split])):
            item = dm.splits[split][i]
            steps = (item["inputs"][:, 2] * std + mean).round().long()
            assert lo <= steps.min() and steps.max() < hi, split
            walk = frame[frame.walk == frame.walk.unique()[0]] if i == 0 else None
            if walk is not None:
                assert dm.info["class_names"][item["targets"]] == walk.activity.iloc[int(steps[-1])]


def test_step_labels_for_the_aligned_mapping(walks):
    dm = module(walks, label_per="step")
    item = dm.splits["train"][0]
    assert dm.mapping == "aligned" and item["targets"].shape == (16,)
    names = [dm.info["class_names"][i] for i in item["targets"].tolist()]
    assert names == walks[walks.walk == "w0"].activity.iloc[:16].tolist()


def test_whole_series_with_one_label_each(walks, tmp_path):
    five = pd.read_csv(activity_file(tmp_path, walks=5))
    frame = five.assign(kind=five.walk.map({"w0": "a", "w1": "b", "w2": "a", "w3": "b", "w4": "a"}))
    dm = module(frame, label="kind", label_per="series", val_size=1, test_size=1)
    assert [len(dm.splits[s]) for s in ("train", "val", "test")] == [3, 1, 1]
    assert dm.splits["train"][0]["inputs"].shape == (240, 2) and dm.splits["test"][0]["targets"].item() == 0  # w4: "a"
    with pytest.raises(SeqzooError, match="label_per=series, but its label changes"):
        module(walks, label_per="series", val_size=1, test_size=1)


def test_float_labels_are_regression(walks):
    dm = module(walks.assign(speed=walks.activity.map({"rest": 0.0, "walk": 1.5, "run": 4.0})), label="speed")
    assert dm.info["num_classes"] is None and dm.splits["train"][0]["targets"].dtype == torch.float32


def test_refusals_name_the_problem(walks):
    with pytest.raises(
        SeqzooError, match="no column 'Activity' for data.label; the columns are: walk, ax, ay, activity"
    ):
        module(walks, label="Activity")
    only_in_test = walks.copy()
    only_in_test.loc[only_in_test.groupby("walk").cumcount() >= 230, "activity"] = "jump"
    with pytest.raises(SeqzooError, match="label 'jump' is not in the training split's classes"):
        module(only_in_test)
    with pytest.raises(SeqzooError, match="each must hold a window of data.context=64"):
        module(walks, context=64)
    with pytest.raises(SeqzooError, match="the label column 'activity' is empty at row 3"):
        module(walks.assign(activity=walks.activity.where(walks.index != 3, np.nan)))


def test_calendar_features_only_for_cycles_the_training_period_covers_whole(walks):
    """Half-hourly walks of 240 steps (five days, 168 in training): time of day is a feature; day of week and day
    of year, which those days do not cover, are not (they would name each training day); a rebuilt module
    uses the fitted cycles."""
    frame = walks.assign(
        time=walks.groupby("walk").cumcount().map(lambda i: pd.Timestamp("2024-03-01") + pd.Timedelta(minutes=30 * i))
    )
    dm = module(frame, time="time", calendar=True)
    assert dm.fitted["calendar"] == ["day"]
    assert dm.info["input_size"] == 2 + 2  # ax, ay, then sin/cos of the time of day
    again = LabelledSeriesDataModule(
        frame=frame, series_id="walk", values=["ax", "ay"], label="activity", context=16, time="time", calendar=True
    )
    again.load_state_dict(dm.state_dict())
    again.setup()
    assert torch.equal(
        again.splits["test"][0]["inputs"], dm.splits["test"][0]["inputs"]
    )  # the same state, the same operations
