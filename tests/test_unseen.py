"""Inputs the model never saw are named: every prediction row says how far outside the training data its
input lies, rows beyond the limit are flagged and counted; inputs beyond float32 after normalisation and
answers that are not numbers are refused."""

import csv

import numpy as np
import pytest
import torch

from seqzoo.data.batch import INPUTS
from seqzoo.errors import SeqzooError
from seqzoo.train import predict
from seqzoo.unseen import LIMIT, flag_rows, input_ranges
from tests.conftest import make_cfg


def test_rows_far_outside_the_training_data_are_flagged_and_counted(tmp_path, capsys):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "x.npz", typical=rng.normal(0, 0.1, size=(10, 12)).astype("float32"),
             huge=np.full((10, 12), 1e30, dtype="float32"))
    out = predict(make_cfg(tmp_path / "p", ["pretrained=japanese_vowels_lstm", f"input={tmp_path / 'x.npz'}"], name="predict"))
    rows = {r["name"]: r for r in csv.DictReader(open(out))}
    assert rows["huge"]["outside"] == "True" and float(rows["huge"]["input_max_abs"]) > 1e29
    assert rows["typical"]["outside"] == "False" and float(rows["typical"]["input_max_abs"]) <= LIMIT
    assert f"1 of 2 sequences lie far outside the training data (|value| > {LIMIT:g}" in capsys.readouterr().out


def test_inputs_beyond_float32_and_answers_that_are_not_numbers_are_refused():
    items = [{INPUTS: torch.ones(3, 2)}, {INPUTS: torch.tensor([[1.0, float("inf")]])}]
    with pytest.raises(SeqzooError, match=r"1 sequence\(s\) hold values that are not finite after the model's normalisation \(first: b\)"):
        input_ranges(["a", "b"], items)
    assert input_ranges(["a"], [{INPUTS: torch.tensor([[1, 2]])}]) is None  # token ids: no range to judge
    with pytest.raises(SeqzooError, match=r"not a finite number for 1 sequence\(s\) \(first: b\)"):
        flag_rows([{"prediction": "1", "probability": 0.5}, {"prediction": "2", "probability": float("nan")}], ["a", "b"], [1.0, 1.0])
