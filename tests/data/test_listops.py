"""ListOps: the generator's values equal a stack machine's reading of its tokens, its lengths keep LRA's
bounds, the splits are disjoint, a second module reads the cache instead of generating, and the task is
learnable in principle (a depth-1 expression's value is a function of its tokens)."""

import random

import numpy as np
import pytest
import torch

from seqzoo.data.batch import INPUTS, TARGETS
from seqzoo.data.listops import IDS, VOCAB, ListOpsDataModule, apply, evaluate, generate, tree
from seqzoo.errors import SeqzooError


def test_each_operator_on_its_values():
    assert apply("[MAX", [3, 9, 1]) == 9 and apply("[MIN", [3, 9, 1]) == 1
    assert apply("[MED", [3, 9, 1, 4]) == 3  # the median 3.5 rounded down, as LRA's int(np.median)
    assert apply("[SM", [7, 8, 9]) == 4  # 24 modulo 10
    assert evaluate("[MAX 4 3 [MIN 2 3 ] 1 0 [MED 1 5 8 9 2 ] ]".split()) == 5


def test_the_generators_values_are_what_the_tokens_say():
    rng = random.Random(1)
    for _ in range(300):
        out = []
        value = tree(rng, 1, 6, 5, out)
        assert value == evaluate(out) and 0 <= value <= 9
        assert out.count("]") == sum(t.startswith("[") for t in out)  # every operator closes


def test_lengths_lie_strictly_inside_the_bounds_and_expressions_are_unique():
    examples = generate(50, 0, 10, 10, 30, 80, 10**6)
    lengths = [len(t) for t, _ in examples]
    assert min(lengths) > 30 and max(lengths) < 80
    assert len({" ".join(t) for t, _ in examples}) == 50


def test_too_narrow_bounds_are_refused_with_the_fix():
    with pytest.raises(SeqzooError, match="widen data.min_length"):
        generate(5, 0, 2, 2, 40, 45, 2000)  # depth 2 with 2 arguments never reaches 40 tokens
    with pytest.raises(SeqzooError, match="min_length < max_length"):
        ListOpsDataModule(min_length=50, max_length=50)


def test_splits_are_disjoint_and_the_cache_is_read_back(tmp_path, monkeypatch):
    kwargs = dict(n_train=60, n_val=20, n_test=20, min_length=10, max_length=60, cache_dir=str(tmp_path))
    a = ListOpsDataModule(**kwargs)
    a.setup()
    assert a.cache_file().is_file()
    seen = {tuple(it[INPUTS].tolist()) for it in a.splits["train"]}
    for split in ("val", "test"):
        assert not seen & {tuple(it[INPUTS].tolist()) for it in a.splits[split]}
    tokens = [VOCAB[i] for i in a.splits["test"][0][INPUTS].tolist()]
    assert evaluate(tokens) == int(a.splits["test"][0][TARGETS])

    def no_generation(*args, **kw):
        raise AssertionError("generated again instead of reading the cache")

    monkeypatch.setattr("seqzoo.data.listops.generate", no_generation)
    b = ListOpsDataModule(**kwargs)
    b.setup()
    for split in ("train", "test"):
        assert all(
            torch.equal(x[INPUTS], y[INPUTS]) and int(x[TARGETS]) == int(y[TARGETS])
            for x, y in zip(a.splits[split], b.splits[split])
        )
    assert ListOpsDataModule(**{**kwargs, "seed": 1}).cache_file() != a.cache_file()  # a setting, a file


def test_text_input_is_encoded_and_unknown_tokens_named():
    dm = ListOpsDataModule(cache_dir=None)
    (item,) = dm.encode(["[SM 4 [MAX 2 7 ] ]"])
    assert item[INPUTS].tolist() == [IDS[t] for t in "[SM 4 [MAX 2 7 ] ]".split()]
    with pytest.raises(SeqzooError, match="'\\[AVG'"):
        dm.encode(["[AVG 1 2 ]"])


def test_two_runs_making_one_setting_at_once_both_succeed(tmp_path, monkeypatch):
    """Two runs started together (a multirun, a benchmark) generate the same setting: each writes under a
    temporary name of its own, so neither renames the other's file away, and one whole cache file is left."""
    kwargs = dict(n_train=30, n_val=10, n_test=10, min_length=10, max_length=40, cache_dir=str(tmp_path))
    first, second = ListOpsDataModule(**kwargs), ListOpsDataModule(**kwargs)
    save, calls = np.savez_compressed, []

    def save_then_the_other_run(file, **arrays):  # the second run generates and writes while the first writes
        save(file, **arrays)
        calls.append(file)
        if len(calls) == 1:
            second.setup()

    monkeypatch.setattr(np, "savez_compressed", save_then_the_other_run)
    first.setup()
    assert len(calls) == 2  # both generated: neither found the other's file
    assert [p.name for p in tmp_path.iterdir()] == [first.cache_file().name]
    assert [int(x[TARGETS]) for x in first.splits["test"]] == [int(x[TARGETS]) for x in second.splits["test"]]
