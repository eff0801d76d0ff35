import pytest

from seqzoo.data.batch import CONDITION, TARGETS
from seqzoo.data.flickr8k import Flickr8kDataModule
from seqzoo.errors import SeqzooError
from tests.data.fixtures import flickr8k_root


def test_official_layout_splits_and_captions(tmp_path):
    dm = Flickr8kDataModule(root=str(flickr8k_root(tmp_path)), image_size=32, min_count=1, num_workers=0)
    dm.prepare_data()
    dm.setup()
    assert {k: len(v) for k, v in dm.splits.items()} == {
        "train": 30,
        "val": 2,
        "test": 2,
    }  # 5 captions per training image
    item = dm.splits["test"][1]
    assert item[CONDITION].shape == (3, 32, 32)
    assert dm.vocab.decode(item[TARGETS].tolist()) == "a blue picture number"  # lower-cased, punctuation dropped
    assert dm.info["bleu"] and dm.info["condition_shape"] == [3, 32, 32]


def test_rare_words_read_as_unknown(tmp_path):
    dm = Flickr8kDataModule(root=str(flickr8k_root(tmp_path)), image_size=32, min_count=16, num_workers=0)
    dm.setup()
    assert "number" in dm.vocab.tokens and "red" not in dm.vocab.tokens  # 30 uses in training captions vs 15


def test_missing_pieces_are_named(tmp_path):
    with pytest.raises(SeqzooError, match="Flickr8k not found.*data.download=true"):
        Flickr8kDataModule(root=str(tmp_path)).prepare_data()
    root = flickr8k_root(tmp_path)
    (root / "Flicker8k_Dataset" / "test_0.jpg").unlink()
    with pytest.raises(SeqzooError, match="1 listed images are missing.*test_0.jpg"):
        Flickr8kDataModule(root=str(root)).setup()
