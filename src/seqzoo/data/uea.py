"""UEA/UCR multivariate time-series classification (many-to-one), e.g. JapaneseVowels.

By default the archives that ship inside sktime's wheel are read (offline; the package is not imported,
only its data files): ACSF1, ArrowHead, BasicMotions, GunPoint, ItalyPowerDemand, JapaneseVowels, OSULeaf,
PLAID. ``root=`` points at a folder of the full archive instead: ``<root>/<name>/<name>_TRAIN.ts``.

The validation split is a stratified ``val_fraction`` of the official training split; the official test
split is the test set. Normalisation is fitted on the training split only and saved in checkpoints
(``state_dict``) so that prediction applies the same numbers:

- ``global``: one mean and standard deviation per channel, over every training step;
- ``series``: each series scaled by its own per-channel mean and deviation, with the log of that deviation
  kept as one more input channel (standardised over the training split): where series differ in scale
  by orders of magnitude (PLAID's currents span 1e-4 to 460), a global scale leaves most of them flat at
  zero, and dropping the scale would lose what tells them apart;
- ``auto`` (default): ``series`` when the middle 80 % of the training series' scales span more than a
  factor of 100, else ``global``.
"""

import importlib.util
from pathlib import Path

import numpy as np
import torch

from seqzoo.data.base import SequenceDataModule
from seqzoo.data.batch import INPUTS, TARGETS
from seqzoo.data.ts_format import read_ts
from seqzoo.errors import SeqzooError


def sktime_data_dir() -> Path | None:
    """Where sktime keeps its shipped data sets, found without importing sktime (slow)."""
    spec = importlib.util.find_spec("sktime")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]) / "datasets" / "data"


def available(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if (p / f"{p.name}_TRAIN.ts").is_file()) if root.is_dir() else []


def stratified_split(labels: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, val), taking ``fraction`` of every class (at least one when fraction > 0)."""
    rng = np.random.default_rng(seed)
    val = []
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        take = max(1, round(fraction * len(idx))) if fraction > 0 and len(idx) > 1 else 0
        val.extend(idx[:take])
    val = np.sort(np.array(val, dtype=int))
    return np.setdiff1d(np.arange(len(labels)), val), val


class UEADataModule(SequenceDataModule):
    mapping = "many_to_one"
    missing_values = True  # data.missing=mean: NaN (``?`` in .ts files) marks a missing value, filled in encode()

    def __init__(
        self,
        name: str = "JapaneseVowels",
        root: str | None = None,
        batch_size: int = 32,
        val_fraction: float = 0.1,
        normalize: str | bool = "auto",
        missing: str = "mean",
        split_seed: int = 0,
        num_workers: int = 0,
        bucket_by_length: bool = False,
    ):
        super().__init__(batch_size, num_workers, bucket_by_length)
        self.name, self.root = name, root
        self.val_fraction, self.split_seed = val_fraction, split_seed
        if normalize not in (True, False, "auto", "global", "series", "none"):
            raise SeqzooError(f"data.normalize={normalize!r}: choose auto, global, series or none")
        self.normalize = {True: "global", False: "none"}.get(normalize, normalize)
        if missing not in ("mean", "error"):
            raise SeqzooError(
                f"data.missing={missing!r}: choose mean (missing values, '?' or NaN, become the training mean) or error"
            )
        self.missing_values = missing == "mean"
        self.mean = self.std = (
            None  # (C,) fitted on the training split: of the steps (global) or of log scales (series)
        )
        self.class_names: list[str] | None = None

    # ---- files -------------------------------------------------------------------------------------------
    def files(self) -> tuple[Path, Path]:
        base = Path(self.root).expanduser() if self.root else sktime_data_dir()
        if base is None:
            raise SeqzooError(
                "no UEA data found: install sktime (pip install sktime) or pass data.root=<folder of the UEA archive>"
            )
        if not base.is_dir():
            raise SeqzooError(
                f"data directory {base} does not exist; pass data.root=<folder holding "
                f"{self.name}/{self.name}_TRAIN.ts>"
            )
        train, test = base / self.name / f"{self.name}_TRAIN.ts", base / self.name / f"{self.name}_TEST.ts"
        if not train.is_file() or not test.is_file():
            names = ", ".join(available(base)) or "none"
            raise SeqzooError(
                f"UEA data set {self.name!r} not found in {base} (looked for {train.name} and {test.name}). "
                f"Available there: {names}. Choose one with data.name=..., or point data.root at the archive."
            )
        return train, test

    def prepare_data(self) -> None:
        self.files()

    # ---- splits ------------------------------------------------------------------------------------------
    def setup(self, stage: str | None = None) -> None:
        if self.splits:
            return
        train_path, test_path = self.files()
        series, labels, header = read_ts(train_path, self.missing_values)
        test_series, test_labels, _ = read_ts(test_path, self.missing_values)
        if self.class_names is None:
            declared = header.get("classlabel", "").split()
            self.class_names = declared[1:] if declared[:1] == ["true"] else sorted(set(labels))
        index = {c: i for i, c in enumerate(self.class_names)}
        unknown = sorted(set(labels + test_labels) - set(index))
        if unknown:
            raise SeqzooError(f"{self.name}: labels {unknown} are not among the declared classes {self.class_names}")
        y = np.array([index[c] for c in labels])
        train_idx, val_idx = stratified_split(y, self.val_fraction, self.split_seed)
        if self.mean is None and self.normalize != "none":
            self.fit_normalisation([series[i] for i in train_idx])
        self.splits = {
            "train": self.encode([series[i] for i in train_idx], y[train_idx]),
            "val": self.encode([series[i] for i in val_idx], y[val_idx]),
            "test": self.encode(test_series, np.array([index[c] for c in test_labels])),
        }

    def fit_normalisation(self, train: list[np.ndarray]) -> None:
        scales = np.stack([np.nanstd(s, 0) for s in train])  # (N, C)
        if self.normalize == "auto":
            low, high = np.nanpercentile(scales, [10, 90], axis=0)
            self.normalize = "series" if np.any(high > 100 * (low + 1e-12)) else "global"
        if self.normalize == "series":
            logs = np.log10(scales + 1e-8)
            self.mean, self.std = logs.mean(0), logs.std(0) + 1e-8
        else:
            steps = np.concatenate(train)  # (sum T, C)
            self.mean, self.std = np.nanmean(steps, 0), np.nanstd(steps, 0) + 1e-8

    def normalised(self, s: np.ndarray) -> np.ndarray:
        """(T, C) -> (T, C), or (T, 2C) with the standardised log scale of each channel appended (series)."""
        if self.normalize == "global":
            return (s - self.mean) / self.std
        if self.normalize == "series":
            scale = np.nanstd(s, 0) + 1e-8  # (C,)
            level = (np.log10(scale) - self.mean) / self.std
            return np.concatenate([(s - np.nanmean(s, 0)) / scale, np.broadcast_to(level, s.shape)], axis=1)
        return s

    @property
    def raw_channels(self) -> int:
        return len(self.mean) if self.mean is not None else self.splits["train"][0][INPUTS].shape[1]

    def encode(self, series: list[np.ndarray], labels: np.ndarray | None = None) -> list[dict]:
        """Raw (T, C) arrays -> dataset items: normalised; missing values (NaN) become 0, the mean."""
        items = []
        for i, s in enumerate(series):
            s = np.asarray(s, dtype=np.float32)
            if s.ndim != 2 or (self.mean is not None and s.shape[1] != self.raw_channels):
                raise SeqzooError(f"sequence {i} has shape {s.shape}; {self.name} needs (T, {self.raw_channels})")
            s = self.normalised(s)
            item = {INPUTS: torch.from_numpy(np.nan_to_num(s).astype(np.float32))}
            if labels is not None:
                item[TARGETS] = torch.tensor(int(labels[i]))
            items.append(item)
        return items

    # ---- what the model needs to know, and what a checkpoint keeps -------------------------------------
    @property
    def input_size(self) -> int:
        """Channels the model reads: the data's, doubled by the scale channels of series normalisation."""
        return (
            self.splits["train"][0][INPUTS].shape[1]
            if self.splits
            else self.raw_channels * (2 if self.normalize == "series" else 1)
        )

    @property
    def info(self) -> dict:
        lengths = [len(it[INPUTS]) for split in self.splits.values() for it in split]
        return {
            "mapping": self.mapping,
            "input_size": self.input_size,
            "num_classes": len(self.class_names),
            "class_names": list(self.class_names),
            "max_length": max(lengths) if lengths else None,
        }

    def state_dict(self) -> dict:
        return {
            "mean": None if self.mean is None else self.mean.tolist(),
            "std": None if self.std is None else self.std.tolist(),
            "class_names": self.class_names,
            "normalize": self.normalize,
        }

    def load_state_dict(self, state: dict) -> None:
        self.mean = None if state["mean"] is None else np.array(state["mean"], dtype=np.float32)
        self.std = None if state["std"] is None else np.array(state["std"], dtype=np.float32)
        self.class_names = state["class_names"]
        self.normalize = state.get("normalize", "global" if self.mean is not None else "none")
