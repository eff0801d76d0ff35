"""Trained models by name: the shipped ones reproduce their registered test figures and predict with no
download; a registered URL is fetched into the cache only when its sha256 matches, used again from the cache
with the network off, and refused (and deleted) when it does not match; an unknown name lists the known."""

import csv
import hashlib
import shutil

import numpy as np
import pytest

from seqzoo import pretrained
from seqzoo.data.ts_format import read_ts
from seqzoo.data.uea import UEADataModule
from seqzoo.errors import SeqzooError
from seqzoo.train import evaluate, predict
from tests.conftest import make_cfg

SHIPPED = ["digits_caption_gru", "japanese_vowels_lstm", "reverse_lstm"]
STORED = 0.5e-4 + 1e-6  # the registry stores four decimals: half a unit of the last, plus float32's rounding of a mean


def test_the_shipped_models_are_listed_with_their_figures():
    listed = pretrained.list_pretrained()
    assert sorted(listed) == SHIPPED and "acc 0.9676" in listed["japanese_vowels_lstm"]
    for name in SHIPPED:
        e = pretrained.entry(name)
        assert e["bytes"] < 1.5e6 and e["command"].startswith("python train.py experiment=") and e["licence"]


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=pytest.mark.slow) if n != "japanese_vowels_lstm" else n for n in SHIPPED]
)
def test_eval_by_name_reproduces_the_registered_test_figures(tmp_path, name):
    test = evaluate(pretrained.resolve(make_cfg(tmp_path / "eval", [f"pretrained={name}"], name="eval")))
    for k, v in pretrained.entry(name)["metrics"].items():
        assert abs(test[f"test/{k}"] - v) <= STORED, k


def test_predict_by_name_and_load_by_name(tmp_path):
    series, labels, _ = read_ts(UEADataModule("JapaneseVowels").files()[1])
    np.savez(tmp_path / "test.npz", **{f"u{i}": s for i, s in enumerate(series)})
    cfg = make_cfg(tmp_path / "p", ["pretrained=japanese_vowels_lstm", f"input={tmp_path}/test.npz"], name="predict")
    rows = list(csv.DictReader(open(predict(pretrained.resolve(cfg)))))
    accuracy = np.mean([r["prediction"] == y for r, y in zip(rows, labels)])
    assert abs(accuracy - pretrained.entry("japanese_vowels_lstm")["metrics"]["acc"]) <= STORED
    task = pretrained.load_pretrained("japanese_vowels_lstm")
    assert not task.training and task.datamodule.state_dict()  # normalisation fitted on training data comes along


@pytest.fixture
def remote(tmp_path, monkeypatch):
    """A registry with one entry served from a file:// URL, and the cache in tmp_path."""
    source = tmp_path / "served.ckpt"
    shutil.copy(pretrained.WEIGHTS / "japanese_vowels_lstm.ckpt", source)
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    monkeypatch.setenv("SEQZOO_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(
        pretrained, "registry", lambda: {"far": {"description": "d", "url": source.as_uri(), "sha256": digest}}
    )
    return source, digest


def test_a_download_is_kept_only_when_its_hash_matches_and_reused_offline(remote, monkeypatch, tmp_path):
    source, digest = remote
    path = pretrained.fetch("far")
    assert path.parent == tmp_path / "cache" and hashlib.sha256(path.read_bytes()).hexdigest() == digest

    def offline(*args, **kwargs):
        raise OSError("network is off")

    monkeypatch.setattr(pretrained.urllib.request, "urlopen", offline)
    assert pretrained.fetch("far") == path  # from the cache, nothing fetched


def test_a_download_that_does_not_match_is_deleted_and_named(remote, tmp_path):
    source, _ = remote
    source.write_bytes(source.read_bytes()[:-10] + b"0123456789")  # changed upstream
    with pytest.raises(SeqzooError, match="sha256 is .* not the registered .* it was deleted"):
        pretrained.fetch("far")
    assert list((tmp_path / "cache").iterdir()) == []  # neither the file nor a partial one


def test_an_unknown_name_lists_the_known_ones():
    with pytest.raises(
        SeqzooError,
        match="no pretrained model named 'jv'; known: digits_caption_gru, japanese_vowels_lstm, reverse_lstm",
    ):
        pretrained.fetch("jv")
