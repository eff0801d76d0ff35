"""Read sequences to predict on from a user's file; every sequence gets a name for the output.

- ``.npy``: one sequence (T, C), or a batch (N, T, C) in which all-NaN trailing steps are padding.
- ``.npz``: each array is one sequence (T, C), named by its key, or a batch (N, T, C) named ``key[i]``.
- ``.csv``: rows are time steps, columns channels; a column named ``id`` or ``sequence_id`` splits the
  rows into several sequences (in order of first appearance). A header row is optional.
- ``.txt``: one text sequence per line, for text tasks.
- ``.wav``, or a folder of them: one waveform (samples, channels) per file, for audio tasks.
"""

import csv
import io
from pathlib import Path

import numpy as np

from seqzoo.data.reading import check_finite, read_text, text_lines
from seqzoo.errors import SeqzooError

ID_COLUMNS = ("id", "sequence_id")


def trim_padding(a: np.ndarray) -> np.ndarray:
    """(T, C) -> the steps before the trailing all-NaN ones."""
    real = ~np.isnan(a).all(axis=1)
    return a[: (np.flatnonzero(real).max() + 1) if real.any() else 0]


def from_array(a: np.ndarray, name: str, where: str = "") -> tuple[list[str], list[np.ndarray]]:
    if a.dtype.kind not in "fiub" or a.ndim not in (2, 3) or 0 in a.shape:
        raise SeqzooError(f"{where}{name}: expected a numeric array (T, C) or (N, T, C), got {a.dtype} {a.shape}")
    if a.ndim == 2:
        return [name], [a.astype(np.float32)]
    return [f"{name}[{i}]" for i in range(len(a))], [trim_padding(s.astype(np.float32)) for s in a]


def load_arrays(path: Path) -> tuple[list[str], list[np.ndarray]]:
    """.npy or .npz (never unpickled: allow_pickle=False), each array through ``from_array``."""
    try:
        if path.suffix.lower() == ".npy":
            return from_array(np.load(path, allow_pickle=False), path.stem, f"{path}: ")
        names, seqs = [], []
        with np.load(path, allow_pickle=False) as archive:
            for key in archive.files:
                n, s = from_array(archive[key], key, f"{path}: array ")
                names += n
                seqs += s
        return names, seqs
    except SeqzooError:
        raise
    except Exception as e:  # truncated, not NumPy's format, pickled objects, a broken zip: all "cannot be read"
        raise SeqzooError(f"cannot read {path} as a NumPy {path.suffix} file ({type(e).__name__}: {e})") from None


def read_csv(path: Path) -> tuple[list[str], list[np.ndarray]]:
    try:
        rows = [r for r in csv.reader(io.StringIO(read_text(path))) if r]
    except csv.Error as e:
        raise SeqzooError(f"{path}: not a CSV file ({e})") from None
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
            values = [float(v) for i, v in enumerate(r) if i != id_col]
        except ValueError:
            raise SeqzooError(f"{path}:{n}: non-numeric value in {r[:8]}; only an 'id' column may hold names") from None
        if groups.get(key) and len(values) != len(groups[key][0]):
            raise SeqzooError(f"{path}:{n}: {len(values)} values, the rows before have {len(groups[key][0])}")
        groups.setdefault(key, []).append(values)
    if not groups or not all(g[0] for g in groups.values()):
        raise SeqzooError(f"{path} holds no numeric values")
    return list(groups), [np.array(g, dtype=np.float32) for g in groups.values()]


def read_sequences(path: str | Path, missing_allowed: bool = False) -> tuple[list[str], list]:
    """-> (names, sequences): float arrays (T, C), or strings for ``.txt``. Numbers must be finite, except
    NaN where ``missing_allowed`` (the model's data set fills missing values)."""
    names, sequences = read_raw(path)
    for name, s in zip(names, sequences):
        if isinstance(s, np.ndarray):
            if len(s) == 0:
                raise SeqzooError(f"{path}: sequence {name} has no steps")
            check_finite(s, f"{path}: sequence {name}", missing_allowed)
    return names, sequences


def read_raw(path: str | Path) -> tuple[list[str], list]:
    path = Path(str(path)).expanduser()
    if path.is_dir() and any(path.glob("*.wav")):
        waves = sorted(path.glob("*.wav"))
        return [w.stem for w in waves], [read_raw(w)[1][0] for w in waves]
    if not path.is_file():
        raise SeqzooError(f"input file {path} does not exist")
    suffix = path.suffix.lower()
    if suffix in (".npy", ".npz"):
        return load_arrays(path)
    if suffix == ".csv":
        return read_csv(path)
    if suffix == ".txt":
        lines = [(n, line) for n, line in text_lines(path) if line.strip()]
        return [f"line{n}" for n, _ in lines], [line for _, line in lines]
    if suffix == ".wav":
        import soundfile

        try:
            audio, _ = soundfile.read(str(path), dtype="float32", always_2d=True)
        except Exception as e:  # soundfile's LibsndfileError, or a RuntimeError/ValueError for a header it cannot parse
            raise SeqzooError(f"cannot read {path} as WAV ({e})") from None
        return [path.stem], [audio]
    raise SeqzooError(
        f"cannot read {path}: use .npy, .npz or .csv for numeric sequences, .txt for text, .wav for audio"
    )
