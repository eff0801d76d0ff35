"""Splitting one list of examples into train / val / test by a seeded shuffle, for data sets that come
as a single file; data sets with official splits use those instead.

Examples that share a ``key`` (the same sentence twice, or one source with several translations) land in
the same split, so nothing evaluated was seen in training.
"""

import random
from collections.abc import Callable

from seqzoo.errors import SeqzooError


def split_examples(
    examples: list, val_fraction: float, test_fraction: float, seed: int, key: Callable = lambda e: e
) -> dict[str, list]:
    """A split asked for (fraction > 0) gets at least one group, so a small hand-made file still has a
    validation and a test split; too few distinct examples for three splits is refused."""
    groups: dict = {}
    for e in examples:
        groups.setdefault(key(e), []).append(e)
    keys = list(groups)
    random.Random(seed).shuffle(keys)
    n_test, n_val = (max(int(f > 0), int(len(keys) * f)) for f in (test_fraction, val_fraction))
    if len(keys) < n_test + n_val + 1:
        raise SeqzooError(
            f"{len(examples)} examples ({len(keys)} distinct) are too few to split into train, validation and test; "
            "give a larger file, or separate files as data.train_path / val_path / test_path"
        )
    chosen = {"test": keys[:n_test], "val": keys[n_test : n_test + n_val], "train": keys[n_test + n_val :]}
    return {split: [e for k in ks for e in groups[k]] for split, ks in chosen.items()}


def check_splits(splits: dict, name: str, datamodule=None) -> None:
    """Refuse, before training, a split that came out empty (after de-duplication, filtering or a split
    fraction too small), with every split's size and what to change."""
    classes = (getattr(datamodule, "info", None) or {}).get("num_classes")
    if classes is not None and classes < 2:
        raise SeqzooError(
            f"{name}: the training split holds {classes} class{'es' if classes != 1 else ''} (labels or tags); a "
            "classifier needs at least two. Check the label or tag column (data.tag_column, data.label), "
            "or give data with more than one label"
        )
    empty = [s for s in ("train", "val", "test") if s in splits and len(splits[s]) == 0]
    if not empty:
        return
    sizes = ", ".join(f"{s} {len(splits[s])}" for s in ("train", "val", "test") if s in splits)
    knobs = [f"data.{s}_fraction" for s in empty if hasattr(datamodule, f"{s}_fraction")]
    raise SeqzooError(
        f"{name}: the {' and '.join(empty)} split{'s are' if len(empty) > 1 else ' is'} empty ({sizes} examples after "
        f"de-duplication and filtering); give more data{', raise ' + ' / '.join(knobs) if knobs else ''}, or give "
        "a file per split where the data set takes one (data.train_path / val_path / test_path)"
    )
