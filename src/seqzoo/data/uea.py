"""UEA/UCR multivariate time-series classification (many-to-one), e.g. JapaneseVowels.

By default the archives that ship inside sktime's wheel are read (offline; the package is not imported,
only its data files): ACSF1, ArrowHead, BasicMotions, GunPoint, ItalyPowerDemand, JapaneseVowels, OSULeaf,
PLAID. ``root=`` points at a folder of the full archive instead: ``<root>/<name>/<name>_TRAIN.ts``.

The validation split is a stratified ``val_fraction`` of the official training split; the official test
split is the test set. Per-channel normalisation is fitted on the training split only and saved in
checkpoints (``state_dict``) so that prediction applies the same numbers.
"""

import importlib.util
from pathlib import Path

import numpy as np
import torch

from seqzoo.data.batch import INPUTS, TARGETS
from seqzoo.data.base import SequenceDataModule
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

    def __init__(
        self,
        name: str = "JapaneseVowels",
        root: str | None = None,
        batch_size: int = 32,
        val_fraction: float = 0.1,
        normalize: bool = True,
        split_seed: int = 0,
        num_workers: int = 0,
        bucket_by_length: bool = False,
    ):
        super().__init__(batch_size, num_workers, bucket_by_length)
        self.name, self.root = name, root
        self.val_fraction, self.normalize, self.split_seed = val_fraction, normalize, split_seed
        self.mean = self.std = None  # (C,) fitted on the training split
        self.class_names: list[str] | None = None

    # ---- files -------------------------------------------------------------------------------------------
    def files(self) -> tuple[Path, Path]:
        base = Path(self.root).expanduser() if self.root else sktime_data_dir()
        if base is None:
            raise SeqzooError("no UEA data found: install sktime (pip install sktime) or pass data.root=<folder of the UEA archive>")
        if not base.is_dir():
            raise SeqzooError(f"data directory {base} does not exist; pass data.root=<folder holding {self.name}/{self.name}_TRAIN.ts>")
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
        series, labels, header = read_ts(train_path)
        test_series, test_labels, _ = read_ts(test_path)
        if self.class_names is None:
            declared = header.get("classlabel", "").split()
            self.class_names = declared[1:] if declared[:1] == ["true"] else sorted(set(labels))
        index = {c: i for i, c in enumerate(self.class_names)}
        unknown = sorted(set(labels + test_labels) - set(index))
        if unknown:
            raise SeqzooError(f"{self.name}: labels {unknown} are not among the declared classes {self.class_names}")
        y = np.array([index[c] for c in labels])
        train_idx, val_idx = stratified_split(y, self.val_fraction, self.split_seed)
        if self.mean is None and self.normalize:
            steps = np.concatenate([series[i] for i in train_idx])  # (sum T, C)
            self.mean, self.std = np.nanmean(steps, 0), np.nanstd(steps, 0) + 1e-8
        self.splits = {
            "train": self.encode([series[i] for i in train_idx], y[train_idx]),
            "val": self.encode([series[i] for i in val_idx], y[val_idx]),
            "test": self.encode(test_series, np.array([index[c] for c in test_labels])),
        }

    def encode(self, series: list[np.ndarray], labels: np.ndarray | None = None) -> list[dict]:
        """Raw (T, C) arrays -> dataset items: normalised; missing values (NaN) become 0, the mean."""
        items = []
        for i, s in enumerate(series):
            s = np.asarray(s, dtype=np.float32)
            if s.ndim != 2 or s.shape[1] != self.input_size:
                raise SeqzooError(f"sequence {i} has shape {s.shape}; {self.name} needs (T, {self.input_size})")
            if self.normalize:
                s = (s - self.mean) / self.std
            item = {INPUTS: torch.from_numpy(np.nan_to_num(s).astype(np.float32))}
            if labels is not None:
                item[TARGETS] = torch.tensor(int(labels[i]))
            items.append(item)
        return items

    # ---- what the model needs to know, and what a checkpoint keeps -------------------------------------
    @property
    def input_size(self) -> int:
        return len(self.mean) if self.mean is not None else self.splits["train"][0][INPUTS].shape[1]

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
        }

    def load_state_dict(self, state: dict) -> None:
        self.mean = None if state["mean"] is None else np.array(state["mean"], dtype=np.float32)
        self.std = None if state["std"] is None else np.array(state["std"], dtype=np.float32)
        self.class_names = state["class_names"]
