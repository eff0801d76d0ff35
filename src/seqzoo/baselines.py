"""Classical baselines for sequence classification, to read a neural model's figure against.

- ``nearest_neighbour``: 1-NN with Euclidean distance, the UCR archive's own baseline (numpy only), on the
  series as the archive gives them (its univariate sets come z-normalised; z-normalising multivariate sets
  per series would erase what tells JapaneseVowels' speakers apart: 56 % instead of 95 %). Series of
  unequal length are resampled to one length first.
- ``minirocket``: Dempster et al. (2021) MiniRocket features + ridge classifier, through sktime's
  ``RocketClassifier`` (needs numba: ``pip install seqzoo[baselines]``). What a time-series practitioner
  reaches for first.
"""

import numpy as np

from seqzoo.errors import SeqzooError


def resample(series: np.ndarray, length: int) -> np.ndarray:
    """(T, C) -> (length, C) by linear interpolation over time; missing values (NaN) become 0 first."""
    series = np.nan_to_num(np.asarray(series, dtype=np.float64))
    if len(series) == length:
        return series
    old, new = np.linspace(0, 1, len(series)), np.linspace(0, 1, length)
    return np.stack([np.interp(new, old, series[:, c]) for c in range(series.shape[1])], axis=1)


def stack(series: list[np.ndarray], length: int) -> np.ndarray:
    """A list of (T_i, C) series -> (N, length, C)."""
    return np.stack([resample(s, length) for s in series])


def nearest_neighbour(train: list[np.ndarray], labels, test: list[np.ndarray]) -> np.ndarray:
    """The label of each test series' nearest training series (Euclidean)."""
    length = max(len(s) for s in train)
    a = stack(train, length).reshape(len(train), -1)  # (N, L * C)
    b = stack(test, length).reshape(len(test), -1)  # (M, L * C)
    distances = (b**2).sum(1, keepdims=True) - 2 * b @ a.T + (a**2).sum(1)  # (M, N)
    return np.asarray(labels)[distances.argmin(1)]


def minirocket(train: list[np.ndarray], labels, test: list[np.ndarray], seed: int = 0) -> np.ndarray:
    """MiniRocket + ridge (sktime), on series resampled to the longest training length."""
    try:
        from sktime.classification.kernel_based import RocketClassifier
    except ImportError as e:  # sktime is a dependency; numba, which its MiniRocket needs, is the optional part
        raise SeqzooError(f"MiniRocket needs numba: pip install 'seqzoo[baselines]' ({e})") from None
    length = max(9, max(len(s) for s in train))  # MiniRocket's kernels span 9 steps
    to_panel = lambda xs: stack(xs, length).transpose(0, 2, 1)  # (N, C, L), sktime's numpy3D layout  # noqa: E731
    model = RocketClassifier(rocket_transform="minirocket", random_state=seed)
    model.fit(to_panel(train), np.asarray(labels))
    return model.predict(to_panel(test))
