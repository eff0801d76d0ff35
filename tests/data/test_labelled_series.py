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


@pytest.mark.parametrize("per,length", [("window", 16), ("step", 16), ("series", 240)])
def test_predict_reads_new_series_as_training_read_them(tmp_path, per, length):
    """seqzoo-predict's reading: one item per series, its last window (or all of it), scaled by the training
    statistics; the label column is not needed, and a series shorter than a window is refused by name."""
    walks = pd.read_csv(activity_file(tmp_path, walks=5))
    if per == "series":
        kinds = walks.assign(kind=walks.walk.map({"w0": "a", "w1": "b", "w2": "a", "w3": "b", "w4": "a"}))
        dm = module(kinds, label="kind", label_per=per, val_size=1, test_size=1)
    else:
        dm = module(walks, label_per=per)
    new = walks.drop(columns="activity").assign(ax=walks.ax * 2)
    new.to_csv(tmp_path / "new.csv", index=False)
    names, items = dm.encode_file(tmp_path / "new.csv")
    assert names == [f"walk=w{i}" for i in range(5)] and all(item["inputs"].shape == (length, 2) for item in items)
    last = new[new.walk == "w1"][["ax", "ay"]].to_numpy()[-length:]
    expected = (last - np.array(dm.fitted["mean"])) / np.array(dm.fitted["std"])
    assert torch.equal(items[1]["inputs"], torch.tensor(expected, dtype=torch.float32))
    if per != "series":
        new[new.index % 240 < 10].to_csv(tmp_path / "short.csv", index=False)
        with pytest.raises(SeqzooError, match="walk=w0: 10 rows; the model reads windows of data.context=16"):
            dm.encode_file(tmp_path / "short.csv")


def test_a_labelled_series_checkpoint_predicts_a_file(tmp_path):
    from seqzoo.train import predict, train
    from tests.conftest import make_cfg

    path = activity_file(tmp_path)
    data = [
        "task=many_to_one",
        "data=labelled_series",
        f"data.path={path}",
        "data.series_id=walk",
        "'data.values=[ax,ay]'".strip("'"),
        "data.label=activity",
        "data.context=16",
        "model.hidden_size=8",
    ]
    train(make_cfg(tmp_path / "run", [*data, "+trainer.max_steps=2"]))
    pd.read_csv(path).drop(columns="activity").to_csv(tmp_path / "new.csv", index=False)
    out = predict(
        make_cfg(
            tmp_path / "p",
            [f"ckpt_path={tmp_path}/run/checkpoints/last.ckpt", f"input={tmp_path}/new.csv"],
            name="predict",
        )
    )
    rows = pd.read_csv(out)
    assert rows.name.tolist() == ["walk=w0", "walk=w1", "walk=w2"] and set(rows.prediction) <= {"rest", "run", "walk"}
