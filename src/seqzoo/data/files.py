"""Read sequences to predict on from a user's file; every sequence gets a name for the output.

- ``.npy``: one sequence (T, C), or a batch (N, T, C) in which all-NaN trailing steps are padding.
- ``.npz``: each array is one sequence (T, C), named by its key, or a batch (N, T, C) named ``key[i]``.
- ``.csv``: rows are time steps, columns channels; a column named ``id`` or ``sequence_id`` splits the
  rows into several sequences (in order of first appearance). A header row is optional.
- ``.txt``: one text sequence per line, for text tasks.
- ``.wav``, or a folder of them: one waveform (samples, channels) per file, for audio tasks.
"""

import csv
from pathlib import Path

import numpy as np

from seqzoo.errors import SeqzooError

ID_COLUMNS = ("id", "sequence_id")


def trim_padding(a: np.ndarray) -> np.ndarray:
    """(T, C) -> the steps before the trailing all-NaN ones."""
    real = ~np.isnan(a).all(axis=1)
    return a[: (np.flatnonzero(real).max() + 1) if real.any() else 0]


def from_array(a: np.ndarray, name: str) -> tuple[list[str], list[np.ndarray]]:
    if a.dtype == object or a.ndim not in (2, 3):
        raise SeqzooError(f"{name}: expected a float array (T, C) or (N, T, C), got {a.dtype} {a.shape}")
    if a.ndim == 2:
        return [name], [a.astype(np.float32)]
    return [f"{name}[{i}]" for i in range(len(a))], [trim_padding(s.astype(np.float32)) for s in a]


def read_csv(path: Path) -> tuple[list[str], list[np.ndarray]]:
    with open(path, newline="") as f:
        rows = [r for r in csv.reader(f) if r]
    if not rows:
        raise SeqzooError(f"{path} is empty")
    try:
        [float(v) for v in rows[0]]
        header = None
    except ValueError:
        header, rows = [h.strip().lower() for h in rows[0]], rows[1:]
    id_col = next((header.index(c) for c in ID_COLUMNS if header and c in header), None)
    groups: dict[str, list[list[float]]] = {}
    for n, r in enumerate(rows, 2 if header else 1):
        key = r[id_col] if id_col is not None else path.stem
        try:
            groups.setdefault(key, []).append([float(v) for i, v in enumerate(r) if i != id_col])
        except ValueError:
            raise SeqzooError(f"{path}:{n}: non-numeric value in {r}; only an 'id' column may hold names") from None
    return list(groups), [np.array(g, dtype=np.float32) for g in groups.values()]


def read_sequences(path: str | Path) -> tuple[list[str], list]:
    """-> (names, sequences): float arrays (T, C), or strings for ``.txt``."""
    path = Path(str(path)).expanduser()
    if path.is_dir() and any(path.glob("*.wav")):
        waves = sorted(path.glob("*.wav"))
        return [w.stem for w in waves], [read_sequences(w)[1][0] for w in waves]
    if not path.is_file():
        raise SeqzooError(f"input file {path} does not exist")
    suffix = path.suffix.lower()
    if suffix == ".npy":
        return from_array(np.load(path), path.stem)
    if suffix == ".npz":
        names, seqs = [], []
        with np.load(path) as archive:
            for key in archive.files:
                n, s = from_array(archive[key], key)
                names += n
                seqs += s
        return names, seqs
    if suffix == ".csv":
        return read_csv(path)
    if suffix == ".txt":
        lines = path.read_text(encoding="utf-8").splitlines()
        return [f"line{i}" for i, l in enumerate(lines, 1) if l.strip()], [l for l in lines if l.strip()]
    if suffix == ".wav":
        import soundfile

        audio, _ = soundfile.read(str(path), dtype="float32", always_2d=True)
        return [path.stem], [audio]
    raise SeqzooError(f"cannot read {path}: use .npy, .npz or .csv for numeric sequences, .txt for text, .wav for audio")
