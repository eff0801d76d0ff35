"""A user's numeric series with a label column, for the other mappings: the same files and checks as
forecasting (``series_frame.py``), windows of ``context`` steps as inputs, and the label as target:

- ``label_per=window`` (many-to-one): the label at each window's last step (what is happening now, given the
  last ``context`` steps);
- ``label_per=step`` (aligned): the label at every step of the window;
- ``label_per=series`` (many-to-one): one label per series (it must not change within one); each whole
  series is one example, and the splits are whole series, ``val_size`` / ``test_size`` of them.

With ``window`` and ``step``, splits are chronological per series, as in forecasting, and a window lies
entirely inside one split, labels included. Inputs are the value columns (``values``) and covariates,
standardised by the training period's statistics, plus calendar features when ``calendar`` (the cycles the
training periods cover whole). A label column of text or integers is classes (named in the training split's
order of sorted names); floats are regression.
"""

import numpy as np
import pandas as pd
import torch

from seqzoo.data.base import ArrayItems, SequenceDataModule
from seqzoo.data.series import calendar_features, fitted_cycles, steps
from seqzoo.data.series_frame import read_frame, split_series
from seqzoo.errors import SeqzooError

PER = {"window": "many_to_one", "step": "aligned", "series": "many_to_one"}


class LabelledSeriesDataModule(SequenceDataModule):
    def __init__(
        self,
        path: str | None = None,
        frame=None,
        label: str = "label",
        label_per: str = "window",
        values: list[str] = ("value",),
        covariates: list[str] = (),
        time: str | None = None,
        series_id: str | None = None,
        calendar: bool = False,
        context: int = 64,
        stride: int = 1,
        val_size: float = 0.15,
        test_size: float = 0.15,
        missing: str = "error",
        spacing: str = "strict",
        name: str | None = None,
        batch_size: int = 32,
        num_workers: int = 0,
    ):
        super().__init__(batch_size, num_workers)
        if label_per not in PER:
            raise SeqzooError(f"data.label_per={label_per} is not one of {', '.join(PER)}")
        if (path is None) == (frame is None):
            raise SeqzooError("data=labelled_series needs a file: data.path=<your .csv, .parquet or .npy>")
        self.mapping, self.sequence_targets = PER[label_per], label_per == "step"
        self.path, self.frame, self.label, self.per = path, frame, label, label_per
        self.columns, self.covariates, self.time, self.series_id = list(values), list(covariates), time, series_id
        self.calendar, self.context, self.stride = calendar, context, stride
        self.val_size, self.test_size, self.missing, self.spacing = val_size, test_size, missing, spacing
        self.name = name or (str(path) if path else "series")
        self.fitted: dict = {}

    def setup(self, stage: str | None = None) -> None:
        if self.splits:
            return
        frame = read_frame(self.path) if self.frame is None else self.frame
        if self.label not in frame.columns:
            raise SeqzooError(
                f"{self.name}: no column {self.label!r} for data.label; the columns are: "
                f"{', '.join(map(str, frame.columns))}"
            )
        frame = frame.assign(_label=frame[self.label])
        series, freq = split_series(
            frame, self.name, self.time, self.series_id, self.columns, self.covariates, self.missing, self.spacing
        )
        labels = [
            part["_label"].to_numpy()
            for _, part in (frame.groupby(self.series_id, sort=False) if self.series_id else [(None, frame)])
        ]
        for s, y in zip(series, labels):
            if pd.isna(y).any():
                raise SeqzooError(
                    f"{self.name}, {s.name}: the label column {self.label!r} is empty at row "
                    f"{int(np.argmax(pd.isna(y)))}"
                )
        parts = self.split(series, labels)
        fresh = not self.fitted
        # the cycles the training periods cover whole (as for forecasting); a checkpoint from before: every cycle
        cycles = (
            fitted_cycles([series[k].times[a:b] for k, a, b in parts["train"]], freq)
            if fresh
            else self.fitted.get("calendar")
        )
        inputs = [self.features(s, freq, cycles) for s in series]
        if fresh:
            train_x = np.concatenate([inputs[k][a:b] for k, a, b in parts["train"]])
            train_y = np.concatenate([labels[k][a:b] for k, a, b in parts["train"]])
            classes = not pd.api.types.is_float_dtype(train_y)
            self.fitted = {
                "mean": train_x.mean(0).tolist(),
                "std": (train_x.std(0) + 1e-8).tolist(),
                "classes": sorted(map(str, set(train_y.tolist()))) if classes else None,
                "calendar": cycles,
            }
        scaled = [self.scaled(x) for x in inputs]
        self.splits = {split: self.examples(scaled, labels, spans, split) for split, spans in parts.items()}

    def features(self, s, freq, cycles) -> np.ndarray:
        """One series' inputs (T, F): its value columns, covariates and, with ``calendar``, the fitted cycles."""
        calendar = calendar_features(s.times, freq, cycles) if self.calendar else np.zeros((len(s.times), 0))
        return np.concatenate([s.values, s.covariates, calendar], 1)

    def scaled(self, x: np.ndarray) -> np.ndarray:
        """Standardised by the training period's statistics (fitted once, saved in the checkpoint)."""
        return (x - np.array(self.fitted["mean"])) / np.array(self.fitted["std"])

    def encode_file(self, path: str) -> tuple[list[str], list[dict]]:
        """``seqzoo-predict input=new.csv``: a file with the training file's value (and covariate) columns, the
        label column not needed -> one item per series: the whole series (``label_per=series``), or its last
        ``context`` steps (``window``: the label now; ``step``: a label for each of those steps)."""
        frame = read_frame(path)
        series, freq = split_series(
            frame, str(path), self.time, self.series_id, self.columns, self.covariates, self.missing, self.spacing
        )
        names, items = [], []
        for s in series:
            x = self.scaled(self.features(s, freq, self.fitted.get("calendar")))  # (T, F)
            if self.per != "series":
                if len(x) < self.context:
                    raise SeqzooError(
                        f"{path}, {s.name}: {len(x)} rows; the model reads windows of data.context={self.context} "
                        "steps: give at least that many"
                    )
                x = x[-self.context :]
            names.append(s.name)
            items.append({"inputs": torch.tensor(x, dtype=torch.float32)})
        return names, items

    def split(self, series, labels) -> dict:
        """-> {split: [(series, start, end)]}: whole series (label_per=series) or each series' periods."""
        if self.per == "series":
            for s, y in zip(series, labels):
                if len(set(y.tolist())) > 1:
                    raise SeqzooError(
                        f"{self.name}, {s.name}: label_per=series, but its label changes "
                        f"({sorted(set(map(str, y.tolist())))[:3]}); "
                        "use label_per=window or label_per=step for labels that change over time"
                    )
            n = len(series)
            n_test, n_val = steps(self.test_size, n), steps(self.val_size, n)
            if n - n_val - n_test < 1 or n_val < 1 or n_test < 1:
                raise SeqzooError(
                    f"{self.name}: {n} series cannot make train, val and test splits of whole series; "
                    "give more series, or label_per=window"
                )
            whole = [(k, 0, len(s.values)) for k, s in enumerate(series)]
            return {
                "train": whole[: n - n_val - n_test],
                "val": whole[n - n_val - n_test : n - n_test],
                "test": whole[n - n_test :],
            }
        parts = {"train": [], "val": [], "test": []}
        for k, s in enumerate(series):
            n = len(s.values)
            n_test, n_val = steps(self.test_size, n), steps(self.val_size, n)
            n_train = n - n_val - n_test
            if min(n_train, n_val, n_test) < self.context:
                raise SeqzooError(
                    f"{self.name}, {s.name}: {n} steps split into train {n_train}, val {n_val}, test {n_test}; "
                    f"each must hold a window of data.context={self.context} steps"
                )
            for split, a, b in (("train", 0, n_train), ("val", n_train, n_train + n_val), ("test", n_train + n_val, n)):
                parts[split].append((k, a, b))
        return parts

    def target(self, y):
        if self.fitted["classes"] is None:
            return torch.tensor(np.asarray(y, dtype=np.float64), dtype=torch.float32)
        index = {c: i for i, c in enumerate(self.fitted["classes"])}
        unknown = [v for v in map(str, np.atleast_1d(y)) if v not in index]
        if unknown:
            raise SeqzooError(
                f"{self.name}: label {unknown[0]!r} is not in the training split's classes {self.fitted['classes']}"
            )
        ids = [index[v] for v in map(str, np.atleast_1d(y))]
        return torch.tensor(ids if np.ndim(y) else ids[0])

    def examples(self, scaled, labels, spans, split):
        xs, ys = [], []
        for k, a, b in spans:
            if self.per == "series":
                xs.append(scaled[k][a:b])
                ys.append(labels[k][0])
                continue
            stride = self.stride if split == "train" else self.context
            for end in range(a + self.context, b + 1, stride):
                xs.append(scaled[k][end - self.context : end])
                ys.append(labels[k][end - self.context : end] if self.per == "step" else labels[k][end - 1])
        if self.per == "series":  # whole series of any length: one item each
            return [{"inputs": torch.tensor(x, dtype=torch.float32), "targets": self.target(y)} for x, y in zip(xs, ys)]
        return ArrayItems(
            inputs=torch.tensor(np.array(xs), dtype=torch.float32), targets=torch.stack([self.target(y) for y in ys])
        )

    @property
    def info(self) -> dict:
        classes = self.fitted["classes"]
        return {
            "mapping": self.mapping,
            "input_size": len(self.fitted["mean"]),
            "num_classes": len(classes) if classes else None,
            "num_targets": 1,
            "class_names": classes,
            "max_length": None if self.per == "series" else self.context,
        }

    def state_dict(self) -> dict:
        return {"fitted": self.fitted}

    def load_state_dict(self, state: dict) -> None:
        self.fitted = state.get("fitted", {})
