"""Splits that cannot work are refused at set-up, with the sizes found and what to change, before any
training; small hand-made files (a few dozen lines, some repeated) train instead of crashing at the end."""

import pytest

from seqzoo.data.splits import split_examples
from seqzoo.errors import SeqzooError
from seqzoo.train import train
from tests.conftest import make_cfg

QUICK = ["debug=limit", "logger=csv", "model.hidden_size=8", "trainer.max_epochs=1"]


def conll(path, sentences: list[str], repeat: int = 1):
    path.write_text(
        "\n\n".join("\n".join(f"{w} X B-{w[0].upper()}" for w in s.split()) for s in sentences * repeat) + "\n"
    )
    return path


def tsv(path, pairs: list[tuple[str, str]], repeat: int = 1):
    path.write_text("".join(f"{s}\t{t}\n" for s, t in pairs * repeat))
    return path


SENTENCES = [
    "the cat sat",
    "a dog ran",
    "the dog sat on the mat",
    "a cat ran quickly",
    "the mat",
    "a dog sat",
    "the cat ran",
]


def test_a_small_conll_file_with_repeated_sentences_trains_to_the_end(tmp_path):
    """Seven distinct sentences, each four times: 10 % of 7 rounded down was an empty validation split."""
    path = conll(tmp_path / "small.conll", SENTENCES, repeat=4)
    metrics = train(make_cfg(tmp_path / "run", QUICK + ["data=conll", "task=aligned", f"data.path={path}"]))
    assert {"val/loss", "val/acc"} <= set(metrics["val"]) and "test/loss" in metrics["test"]


def test_a_small_tsv_pairs_file_trains_to_the_end(tmp_path):
    pairs = [(s, s.upper()) for s in SENTENCES]
    path = tsv(tmp_path / "pairs.tsv", pairs, repeat=3)
    metrics = train(make_cfg(tmp_path / "run", QUICK + ["data=parallel_text", "task=seq2seq", f"data.path={path}"]))
    assert "val/loss" in metrics["val"]


def test_too_few_distinct_examples_to_split_are_refused(tmp_path):
    path = conll(tmp_path / "tiny.conll", SENTENCES[:2], repeat=10)
    with pytest.raises(
        SeqzooError, match=r"20 examples \(2 distinct\) are too few to split into train, validation and test"
    ):
        train(make_cfg(tmp_path / "run", QUICK + ["data=conll", "task=aligned", f"data.path={path}"]))


def test_an_empty_split_file_is_named_before_training(tmp_path):
    files = {s: conll(tmp_path / f"{s}.conll", SENTENCES) for s in ("train", "test")}
    (tmp_path / "val.conll").write_text("\n\n")
    overrides = [
        "data=conll",
        "task=aligned",
        f"data.train_path={files['train']}",
        f"data.val_path={tmp_path / 'val.conll'}",
        f"data.test_path={files['test']}",
    ]
    with pytest.raises(SeqzooError, match=r"val.conll holds no sentences"):
        train(make_cfg(tmp_path / "run", QUICK + overrides))
    assert not (tmp_path / "run" / "checkpoints").exists()


def test_filtering_that_leaves_no_training_pairs_is_refused(tmp_path):
    path = tsv(tmp_path / "pairs.tsv", [(s, s) for s in SENTENCES], repeat=3)
    with pytest.raises(SeqzooError, match=r"the train split is empty \(train 0, val 3, test 3 examples after de-dup"):
        train(
            make_cfg(
                tmp_path / "run",
                QUICK + ["data=parallel_text", "task=seq2seq", f"data.path={path}", "data.max_length=1"],
            )
        )


@pytest.mark.parametrize("n", [3, 4, 9, 10, 11, 50])
def test_every_split_asked_for_gets_an_example(n):
    parts = split_examples(list(range(n)), 0.1, 0.1, seed=0)
    assert all(parts[s] for s in ("train", "val", "test")) and sorted(sum(parts.values(), [])) == list(range(n))
