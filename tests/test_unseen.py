"""Inputs the model never saw are named: every prediction row says how far outside the training data its
input lies, rows beyond the limit are flagged and counted; inputs beyond float32 after normalisation and
answers that are not numbers are refused."""

import csv

import numpy as np
import pytest
import torch

from seqzoo.data.batch import INPUTS
from seqzoo.errors import SeqzooError
from seqzoo.pretrained import resolve
from seqzoo.train import predict as predict_checkpoint
from seqzoo.unseen import LIMIT, flag_rows, input_ranges
from tests.conftest import make_cfg


def predict(cfg):
    return predict_checkpoint(resolve(cfg))  # pretrained= resolved as the CLI does


def test_rows_far_outside_the_training_data_are_flagged_and_counted(tmp_path, capsys):
    rng = np.random.default_rng(0)
    np.savez(
        tmp_path / "x.npz",
        typical=rng.normal(0, 0.1, size=(10, 12)).astype("float32"),
        huge=np.full((10, 12), 1e30, dtype="float32"),
    )
    out = predict(
        make_cfg(tmp_path / "p", ["pretrained=japanese_vowels_lstm", f"input={tmp_path / 'x.npz'}"], name="predict")
    )
    rows = {r["name"]: r for r in csv.DictReader(open(out))}
    assert rows["huge"]["outside"] == "True" and float(rows["huge"]["input_max_abs"]) > 1e29
    assert rows["typical"]["outside"] == "False" and float(rows["typical"]["input_max_abs"]) <= LIMIT
    assert f"1 of 2 sequences lie far outside the training data (|value| > {LIMIT:g}" in capsys.readouterr().out


def test_inputs_beyond_float32_and_answers_that_are_not_numbers_are_refused():
    items = [{INPUTS: torch.ones(3, 2)}, {INPUTS: torch.tensor([[1.0, float("inf")]])}]
    with pytest.raises(
        SeqzooError,
        match=r"1 sequence\(s\) hold values that are not finite after the model's normalisation \(first: b\)",
    ):
        input_ranges(["a", "b"], items)
    assert input_ranges(["a"], [{INPUTS: torch.tensor([[1, 2]])}]) is None  # token ids: no range to judge
    with pytest.raises(SeqzooError, match=r"not a finite number for 1 sequence\(s\) \(first: b\)"):
        flag_rows(
            [{"prediction": "1", "probability": 0.5}, {"prediction": "2", "probability": float("nan")}],
            ["a", "b"],
            [1.0, 1.0],
        )


def test_unknown_characters_are_read_as_unk_counted_per_row_and_named_with_their_line(tmp_path, capsys):
    (tmp_path / "words.txt").write_text("123\n4€2\n")
    out = predict(
        make_cfg(tmp_path / "p", ["pretrained=reverse_lstm", f"input={tmp_path / 'words.txt'}"], name="predict")
    )
    rows = list(csv.DictReader(open(out)))
    assert [r["unknown_tokens"] for r in rows] == ["0", "1"]
    said = capsys.readouterr().out
    assert "1 token(s) in 1 input(s) are not in the model's vocabulary" in said and "line 2 (line2): '€'" in said


def test_a_sequence_longer_than_the_model_reads_is_refused_with_its_limit_or_cut_on_request(tmp_path, capsys):
    from seqzoo.train import train

    run = tmp_path / "run"
    train(
        make_cfg(
            run,
            [
                "model=transformer",
                "model.max_len=32",
                "model.d_model=16",
                "model.dim_feedforward=32",
                "model.num_heads=2",
                "debug=limit",
                "logger=csv",
            ],
        )
    )
    np.savez(tmp_path / "x.npz", short=np.zeros((20, 12), "float32"), long=np.zeros((40, 12), "float32"))
    args = [f"ckpt_path={run}/checkpoints/last.ckpt", f"input={tmp_path / 'x.npz'}"]
    with pytest.raises(
        SeqzooError,
        match=r"1 sequence\(s\) are longer than the 32 steps this model can read \(first: long; the longest 40\)"
        r".*truncate=true",
    ):
        predict(make_cfg(tmp_path / "p1", args, name="predict"))
    out = predict(make_cfg(tmp_path / "p2", [*args, "truncate=true"], name="predict"))
    assert len(list(csv.DictReader(open(out)))) == 2 and "1 sequence(s) were cut" in capsys.readouterr().out


def test_an_output_cut_by_the_length_limit_is_marked_incomplete_and_counted(tmp_path, capsys):
    (tmp_path / "words.txt").write_text("12\n1234567\n")
    out = predict(
        make_cfg(
            tmp_path / "p",
            ["pretrained=reverse_lstm", f"input={tmp_path / 'words.txt'}", "+task.decoding.max_length=4"],
            name="predict",
        )
    )
    rows = list(csv.DictReader(open(out)))
    assert [r["complete"] for r in rows] == ["True", "False"] and rows[0]["prediction"] == "21"
    assert "1 output(s) reached the length limit before ending (column complete=False)" in capsys.readouterr().out
