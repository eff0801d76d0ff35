"""End to end through the real configs: train, repeat, resume, evaluate, predict."""

import csv
import json
import os
import subprocess
import sys
from importlib.metadata import version

import numpy as np
import pytest
import torch
from omegaconf import open_dict

from seqzoo.cli import train_main
from seqzoo.configs import config_options
from seqzoo.data.ts_format import read_ts
from seqzoo.data.uea import UEADataModule
from seqzoo.errors import SeqzooError
from seqzoo.train import check_mapping, evaluate, predict, train
from tests.conftest import ROOT, make_cfg
from tests.tolerance import bound

QUICK = ["debug=limit", "logger=csv", "model.hidden_size=16"]


def test_fast_dev_run(tmp_path):
    metrics = train(make_cfg(tmp_path, ["debug=fast_dev_run"]))
    assert set(metrics["test"]) == {"test/loss", "test/acc", "test/f1"}
    assert 0 <= metrics["test"]["test/acc"] <= 1 and metrics["best_checkpoint"] == ""
    assert json.loads((tmp_path / "metrics.json").read_text())["test"] == metrics["test"]


def test_run_directory_holds_config_checkpoints_logs_and_metrics(tmp_path):
    metrics = train(make_cfg(tmp_path, QUICK))
    assert (tmp_path / "checkpoints" / "best.ckpt").is_file() and (tmp_path / "checkpoints" / "last.ckpt").is_file()
    assert (tmp_path / "config.yaml").read_text().count("JapaneseVowels") == 1
    assert (tmp_path / "csv" / "metrics.csv").is_file()
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert saved["val"] == metrics["val"] and saved["test"]["test/acc"] == metrics["test"]["test/acc"]
    assert set(saved["val"]) == {"val/loss", "val/acc", "val/f1"}


def test_a_seed_repeats_a_run_exactly(tmp_path):
    a = train(make_cfg(tmp_path / "a", QUICK + ["seed=7"]))
    b = train(make_cfg(tmp_path / "b", QUICK + ["seed=7"]))
    c = train(make_cfg(tmp_path / "c", QUICK + ["seed=8"]))
    assert a["val"] == b["val"] and a["test"] == b["test"]
    assert a["test"]["test/loss"] != c["test"]["test/loss"]


def test_resume_continues_where_the_run_stopped(tmp_path):
    common = QUICK + ["seed=3", "trainer.limit_val_batches=1.0"]
    straight = train(make_cfg(tmp_path / "straight", common + ["trainer.max_epochs=4"]))
    train(make_cfg(tmp_path / "first", common + ["trainer.max_epochs=2"]))
    last = tmp_path / "first" / "checkpoints" / "last.ckpt"
    assert torch.load(last, weights_only=False)["epoch"] == 1
    resumed = train(make_cfg(tmp_path / "resumed", common + ["trainer.max_epochs=4", f"ckpt_path={last}"]))
    assert resumed["global_step"] == straight["global_step"] == 12
    for split in ("val", "test"):
        for k, v in straight[split].items():
            assert resumed[split][k] == v, k  # the same operations in the same order: bit for bit


def test_a_checkpoint_every_n_steps_resumes_mid_epoch_where_the_run_was(tmp_path):
    common = QUICK + ["seed=4", "model.dropout=0.2", "model.num_layers=2"]
    straight = train(make_cfg(tmp_path / "straight", common))
    train(make_cfg(tmp_path / "first", common + ["checkpoint_every_n_steps=4"]))
    last = tmp_path / "first" / "checkpoints" / "last.ckpt"
    assert torch.load(last, weights_only=True)["global_step"] == 4  # 3 batches an epoch: mid-way through the second
    resumed = train(make_cfg(tmp_path / "resumed", common + [f"ckpt_path={last}"]))
    assert resumed["global_step"] == straight["global_step"] == 6
    assert resumed["test"] == straight["test"]  # the same operations in the same order: bit for bit


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("trained")
    metrics = train(make_cfg(out, ["logger=csv", "trainer.max_epochs=3", "model.hidden_size=32"]))
    return out, metrics


def test_eval_recomputes_the_runs_test_metrics(trained, tmp_path):
    out, metrics = trained
    test = evaluate(make_cfg(tmp_path, [f"ckpt_path={out}/checkpoints/best.ckpt"], name="eval"))
    assert test == metrics["test"]  # the same weights, batches and operations: bit for bit


def test_runs_and_checkpoints_record_their_versions_and_eval_names_other_ones(trained, tmp_path, capsys):
    out, _ = trained
    recorded = json.loads((out / "metrics.json").read_text())["versions"]
    assert recorded["torch"] == version("torch") and set(recorded) == {
        "torch",
        "lightning",
        "hydra-core",
        "numpy",
        "seqzoo",
    }
    ckpt = torch.load(out / "checkpoints" / "best.ckpt", weights_only=True)
    assert ckpt["seqzoo"]["versions"] == recorded
    evaluate(make_cfg(tmp_path / "same", [f"ckpt_path={out}/checkpoints/best.ckpt"], name="eval"))
    assert "other versions" not in capsys.readouterr().out  # the same stack: nothing to say
    ckpt["seqzoo"]["versions"] |= {"torch": "2.0.0", "numpy": "1.24.0"}
    torch.save(ckpt, tmp_path / "older.ckpt")
    evaluate(make_cfg(tmp_path / "older", [f"ckpt_path={tmp_path}/older.ckpt"], name="eval"))
    said = [line for line in capsys.readouterr().out.splitlines() if "other versions" in line]
    assert (
        len(said) == 1
        and f"torch 2.0.0 -> {version('torch')}" in said[0]
        and f"numpy 1.24.0 -> {version('numpy')}" in said[0]
    )
    assert json.loads((tmp_path / "older" / "metrics.json").read_text())["versions"] == recorded


def test_predict_writes_readable_predictions(trained, tmp_path):
    out, metrics = trained
    dm = UEADataModule("JapaneseVowels")
    series, labels, _ = read_ts(dm.files()[1])
    np.savez(tmp_path / "test.npz", **{f"u{i}": s for i, s in enumerate(series)})
    cfg = make_cfg(tmp_path, [f"ckpt_path={out}/checkpoints/best.ckpt", f"input={tmp_path}/test.npz"], name="predict")
    rows = list(csv.DictReader(open(predict(cfg))))
    assert [r["name"] for r in rows] == [f"u{i}" for i in range(len(series))]
    assert {r["prediction"] for r in rows} <= set("123456789")
    accuracy = np.mean([r["prediction"] == y for r, y in zip(rows, labels)])
    # the same predictions counted twice: a float32 mean (torchmetrics) against a float64 one
    assert abs(accuracy - metrics["test"]["test/acc"]) <= bound(accuracy, torch.float32, len(rows))
    assert all(0 < float(r["probability"]) <= 1 for r in rows)


def test_a_task_that_cannot_use_the_data_names_both_and_the_fix(tmp_path):
    class CaptionData:
        mapping = "one_to_many"

    cfg = make_cfg(tmp_path)
    with pytest.raises(SeqzooError, match="task=many_to_one cannot use data=CaptionData.*use task=one_to_many"):
        check_mapping(cfg.task, CaptionData())


def test_a_config_that_pins_a_size_the_data_knows_is_refused(tmp_path):
    with pytest.raises(SeqzooError, match="input_size=5 is set in the config but the task needs input_size=12"):
        train(make_cfg(tmp_path, ["+model.input_size=5", "debug=fast_dev_run"]))


def test_predict_refuses_input_of_the_wrong_kind(trained, tmp_path):
    out, _ = trained
    (tmp_path / "lines.txt").write_text("hello\n")
    cfg = make_cfg(tmp_path, [f"ckpt_path={out}/checkpoints/best.ckpt", f"input={tmp_path}/lines.txt"], name="predict")
    with pytest.raises(SeqzooError, match="reads numeric sequences"):
        predict(cfg)


def test_last_ckpt_holds_the_last_epoch_even_when_the_best_was_earlier(tmp_path):
    """Lightning's save_last rewrites last.ckpt only when best.ckpt changes; resuming must not go back in time."""
    never_better = ["callbacks.model_checkpoint.mode=max"]  # the "best" is the worst loss: early, then never again
    metrics = train(make_cfg(tmp_path, QUICK + ["trainer.max_epochs=3", *never_better]))
    last = torch.load(tmp_path / "checkpoints" / "last.ckpt", weights_only=False)
    assert last["epoch"] == 2 and last["global_step"] == metrics["global_step"]


@pytest.mark.parametrize(
    "select,expected",
    [
        (["select.weights=last"], "last"),
        (["select.weights=best"], "best"),
        ([], "last"),
        (["select.min_val=10"], "best"),
    ],
)
def test_the_tested_weights_follow_the_selection_policy(tmp_path, select, expected):
    """auto: best by validation loss only when at least select.min_val examples (50) measured it; JapaneseVowels
    has 27."""
    metrics = train(make_cfg(tmp_path, QUICK + select))
    assert metrics["tested_weights"] == expected and metrics["tested_checkpoint"].endswith(f"{expected}.ckpt")
    assert json.loads((tmp_path / "metrics.json").read_text())["tested_weights"] == expected


def test_train_main_returns_the_monitored_validation_metric(tmp_path):
    value = train_main(make_cfg(tmp_path / "loss", QUICK))
    assert value == json.loads((tmp_path / "loss" / "metrics.json").read_text())["val"]["val/loss"]
    acc = ["callbacks.model_checkpoint.monitor=val/acc", "callbacks.model_checkpoint.mode=max"]
    value = train_main(make_cfg(tmp_path / "acc", QUICK + acc))
    assert value == json.loads((tmp_path / "acc" / "metrics.json").read_text())["val"]["val/acc"]


def test_a_family_without_a_decoder_is_refused_in_the_decoder_role(tmp_path):
    cfg = make_cfg(tmp_path, ["task=seq2seq", "data=reverse", "debug=fast_dev_run"])
    with open_dict(cfg):
        del cfg["decoder"]  # what composing a family with no configs/decoder/<family>.yaml leaves
    with pytest.raises(SeqzooError, match="needs a decoder.*choose decoder=" + "\\|".join(config_options("decoder"))):
        train(cfg)


@pytest.mark.parametrize("flush", [True, False])
def test_a_run_flushes_subnormal_floats_on_every_cpu_thread(tmp_path, flush):
    """``flush_denormal`` is set before torch starts its threads, so all of them see it: on two threads an
    elementwise op over subnormal inputs gives all zeros (half, had only the main thread been set)."""
    (tmp_path / "metrics.json").write_text("{}")  # train() stops at once: the folder already holds a run
    code = f"""
import sys, torch
from seqzoo.errors import SeqzooError
from seqzoo.train import train
from tests.conftest import make_cfg
try:
    train(make_cfg(sys.argv[1], ["flush_denormal={str(flush).lower()}"]))
except SeqzooError:
    pass
torch.set_num_threads(2)
print(((torch.full((1 << 21,), 1e-39) * 1.0) == 0).float().mean().item())
"""
    env = {**os.environ, "OMP_NUM_THREADS": "2"}
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert float(done.stdout.split()[-1]) == (1.0 if flush else 0.0)


def test_the_lowest_training_loss_weights_are_those_of_the_epoch_that_logged_it(tmp_path):
    """select.weights=train_loss (recipe=fawaz2019) tests the weights saved at the end of the epoch whose logged
    train/loss_epoch was the lowest."""
    metrics = train(make_cfg(tmp_path, QUICK + ["trainer.max_epochs=4", "select.weights=train_loss"]))
    assert metrics["tested_weights"] == "train_loss"
    assert metrics["tested_checkpoint"].endswith("lowest_train_loss.ckpt")
    with open(next(tmp_path.glob("csv/**/metrics.csv"))) as f:
        losses = {int(r["epoch"]): float(r["train/loss_epoch"]) for r in csv.DictReader(f) if r["train/loss_epoch"]}
    saved = torch.load(metrics["tested_checkpoint"], weights_only=False)
    lowest = min(losses, key=losses.get)
    assert saved["epoch"] == lowest and len(losses) == 4
    state = next(v for k, v in saved["callbacks"].items() if "train/loss_epoch" in k)
    assert float(state["best_model_score"]) == pytest.approx(losses[lowest], rel=1e-6)


def test_the_recipe_composes_and_trains_with_its_schedule_and_weights(tmp_path):
    metrics = train(make_cfg(tmp_path, QUICK + ["recipe=fawaz2019", "trainer.max_epochs=2"]))
    assert metrics["tested_weights"] == "train_loss"
    config = (tmp_path / "config.yaml").read_text()
    assert "seqzoo.tasks.optim.on_plateau" in config and "torch.optim.Adam\n" in config
