"""Splitting one list of examples into train / val / test by a seeded shuffle, for data sets that come
as a single file; data sets with official splits use those instead.

Examples that share a ``key`` (the same sentence twice, or one source with several translations) land in
the same split, so nothing evaluated was seen in training.
"""

import random
from collections.abc import Callable


def split_examples(examples: list, val_fraction: float, test_fraction: float, seed: int, key: Callable = lambda e: e) -> dict[str, list]:
    groups: dict = {}
    for e in examples:
        groups.setdefault(key(e), []).append(e)
    keys = list(groups)
    random.Random(seed).shuffle(keys)
    n_test, n_val = int(len(keys) * test_fraction), int(len(keys) * val_fraction)
    chosen = {"test": keys[:n_test], "val": keys[n_test : n_test + n_val], "train": keys[n_test + n_val :]}
    return {split: [e for k in ks for e in groups[k]] for split, ks in chosen.items()}
