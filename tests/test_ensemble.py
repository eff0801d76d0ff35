"""ensemble=N: N seeds of a many-to-one model, their mean class probabilities one model, which eval, predict
and export read like any checkpoint."""

import copy
import csv
import json

import numpy as np
import pytest
import torch

from seqzoo.data.ts_format import read_ts
from seqzoo.data.uea import UEADataModule
from seqzoo.errors import SeqzooError
from seqzoo.export import export_sequence_model
from seqzoo.tasks.ensemble import Ensemble
from seqzoo.tasks.many_to_one import ManyToOne
from seqzoo.train import evaluate, predict, restore, train
from tests.conftest import make_cfg, small_part
from tests.test_export import ort_against_eager
from tests.tolerance import bound


def member(seed: int, **kwargs) -> ManyToOne:
    torch.manual_seed(seed)
    return ManyToOne(small_part("model", "gru"), input_size=3, **kwargs).double().eval()


def test_copies_of_one_model_are_that_model():
    one = member(0, num_classes=4)
    x, mask = torch.randn(5, 9, 3, dtype=torch.float64), torch.arange(9)[None] < torch.tensor([[9], [4], [7], [1], [9]])
    together = Ensemble([one, copy.deepcopy(one), copy.deepcopy(one)])
    assert torch.allclose(together(x, mask).softmax(-1), one(x, mask).softmax(-1), rtol=0, atol=1e-12)


def test_the_output_is_the_log_of_the_mean_probability_and_the_mean_regressed_value():
    x = torch.randn(4, 6, 3, dtype=torch.float64)
    a, b = member(0, num_classes=3), member(1, num_classes=3)
    mean = (a(x).softmax(-1) + b(x).softmax(-1)) / 2
    assert torch.allclose(Ensemble([a, b])(x).exp(), mean, rtol=0, atol=1e-12)  # float64: rounding only
    r, s = member(0, num_targets=2), member(1, num_targets=2)
    assert torch.allclose(Ensemble([r, s])(x), (r(x) + s(x)) / 2, rtol=0, atol=1e-12)


def test_an_ensemble_needs_many_to_one_members():
    with pytest.raises(TypeError, match="many-to-one"):
        Ensemble([])


@pytest.fixture(scope="module")
def ensemble_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("ensemble")
    return out, train(
        make_cfg(out, ["logger=csv", "trainer.max_epochs=2", "model.hidden_size=16", "ensemble=2", "seed=5"])
    )


def test_members_are_whole_runs_of_consecutive_seeds_and_the_ensemble_is_tested_as_one(ensemble_run):
    out, metrics = ensemble_run
    assert [m["seed"] for m in metrics["members"]] == [5, 6]
    for i, m in enumerate(metrics["members"]):
        assert json.loads((out / f"member_{i}" / "metrics.json").read_text())["test"] == m["test"]
    assert metrics["members"][0]["test"] != metrics["members"][1]["test"]  # different seeds, different models
    assert json.loads((out / "metrics.json").read_text())["test"] == metrics["test"]
    assert set(metrics["test"]) == {"test/loss", "test/acc", "test/f1"}


def test_the_saved_ensemble_evaluates_to_its_training_figures(ensemble_run, tmp_path):
    out, metrics = ensemble_run
    ckpt = out / "checkpoints" / "ensemble.ckpt"
    assert metrics["tested_checkpoint"] == str(ckpt)
    test = evaluate(make_cfg(tmp_path, [f"ckpt_path={ckpt}"], name="eval"))
    assert test == metrics["test"]  # the same weights, batches and operations: bit for bit
    _, _, task = restore(make_cfg(tmp_path / "r", [f"ckpt_path={ckpt}"], name="eval"))
    assert isinstance(task, Ensemble) and len(task.members) == 2


def test_the_saved_ensemble_predicts_and_exports_as_one_model(ensemble_run, tmp_path):
    out, metrics = ensemble_run
    ckpt = out / "checkpoints" / "ensemble.ckpt"
    series, labels, _ = read_ts(UEADataModule("JapaneseVowels").files()[1])
    np.savez(tmp_path / "test.npz", **{f"u{i}": s for i, s in enumerate(series)})
    cfg = make_cfg(tmp_path, [f"ckpt_path={ckpt}", f"input={tmp_path}/test.npz"], name="predict")
    rows = list(csv.DictReader(open(predict(cfg))))
    accuracy = np.mean([r["prediction"] == y for r, y in zip(rows, labels)])
    assert abs(accuracy - metrics["test"]["test/acc"]) <= bound(accuracy, torch.float32, len(rows))
    _, _, task = restore(make_cfg(tmp_path / "r", [f"ckpt_path={ckpt}"], name="eval"))
    export_sequence_model(task.eval(), tmp_path / "ensemble.onnx", checks=1)
    ort_against_eager(task, tmp_path / "ensemble.onnx", 3, 17, seed=7)  # within float32's rounding bound


def test_an_ensemble_of_another_mapping_is_refused(tmp_path):
    with pytest.raises(SeqzooError, match="task=many_to_one"):
        train(make_cfg(tmp_path, ["task=aligned", "data=copy_memory", "ensemble=2", "debug=fast_dev_run"]))


def test_an_ensemble_run_again_in_its_folder_keeps_finished_members_and_resumes_the_rest(tmp_path):
    """As after an interrupt in the second member: its last.ckpt is there, its final metrics are not."""
    common = ["logger=csv", "trainer.max_epochs=2", "model.hidden_size=16", "ensemble=2", "seed=3"]
    first = train(make_cfg(tmp_path, common))
    kept = (tmp_path / "member_0" / "metrics.json").stat().st_mtime_ns
    (tmp_path / "member_1" / "metrics.json").unlink()
    again = train(make_cfg(tmp_path, common + ["overwrite=true"]))
    assert (tmp_path / "member_0" / "metrics.json").stat().st_mtime_ns == kept  # not trained again
    assert len(list((tmp_path / "member_1").glob("csv_before_resume_*/metrics.csv"))) == 1  # its first logs kept
    assert again["members"][1]["test"] == first["members"][1]["test"]  # resumed at its end: the same weights
    assert again["test"] == first["test"]
    with pytest.raises(SeqzooError, match="hydra.run.dir"):
        train(make_cfg(tmp_path / "x", common + [f"ckpt_path={first['members'][0]['checkpoint']}"]))
