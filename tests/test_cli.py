"""The commands a user types, run as subprocesses: errors end in one clear message, DDP runs, the default
experiment reaches its published accuracy."""

import json
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_cli

TRAIN = str(ROOT / "train.py")
QUICK = ["debug=limit", "logger=csv", "model.hidden_size=8"]


def only_run(tmp_path: Path) -> Path:
    runs = list((tmp_path / "logs" / "train" / "runs").iterdir())
    assert len(runs) == 1, runs
    return runs[0]


@pytest.mark.parametrize(
    "args,expected",
    [
        (["model=nope"], ["Could not find 'model/nope'", "Available options", "lstm"]),
        (["task=nope"], ["Could not find 'task/nope'", "many_to_one"]),
        (["trainer.max_epoch=3"], ["Could not override 'trainer.max_epoch'", "+trainer.max_epoch"]),
        (["+model.hiden_size=3"], ["seqzoo: error: cannot build", "hiden_size"]),
        (["data=uea", "data.name=Nope"], ["seqzoo: error:", "'Nope' not found", "BasicMotions"]),
        (["data.root=/no/such/dir"], ["seqzoo: error: data directory /no/such/dir does not exist", "data.root="]),
        (["ckpt_path=/no/such.ckpt"], ["seqzoo: error: checkpoint /no/such.ckpt does not exist"]),
        (["task=seq2seq"], ["seqzoo: error: task=seq2seq cannot use data=UEADataModule", "use task=many_to_one"]),
        (["data=conll", "task=aligned"], ["seqzoo: error: give either data.path="]),
    ],
    ids=[
        "unknown-model",
        "unknown-task",
        "unknown-key",
        "unknown-constructor-key",
        "unknown-dataset",
        "missing-dir",
        "missing-ckpt",
        "wrong-mapping",
        "missing-path",
    ],
)
def test_bad_input_ends_in_one_clear_message(tmp_path, args, expected):
    result = run_cli([TRAIN, *args], tmp_path)
    assert result.returncode != 0
    for text in expected:
        assert text in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_a_corrupt_checkpoint_is_reported_and_left_untouched(tmp_path):
    bad = tmp_path / "best.ckpt"
    bad.write_bytes(b"PK\x03\x04 this is not a checkpoint")
    before = bad.read_bytes()
    for args in (
        ["-c", "from seqzoo.cli import eval_main; eval_main()", f"ckpt_path={bad}"],
        [TRAIN, f"ckpt_path={bad}"],
    ):
        result = run_cli(args, tmp_path)
        assert result.returncode == 2, result.stderr
        assert "corrupt or not a checkpoint" in result.stderr and "Traceback" not in result.stderr
    assert bad.read_bytes() == before


@pytest.mark.slow
def test_ddp_on_cpu_runs_and_tests(tmp_path):
    result = run_cli([TRAIN, "trainer=ddp_cpu", *QUICK], tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads((only_run(tmp_path) / "metrics.json").read_text())
    assert 0 <= metrics["test"]["test/acc"] <= 1


@pytest.mark.slow
def test_the_default_experiment_reaches_97_percent(tmp_path):
    """python train.py, unchanged, as on a 2-core machine: LSTM on JapaneseVowels beats 1-NN Euclidean (95.1 %
    on the same split, docs/results/bench_defaults.json). README's 97.3 % is one machine's measurement:
    summation order follows the CPU and the thread count (96.8 % on one thread, 96.2 % on another CPU with two),
    a point either way on 370 test series."""
    result = run_cli([TRAIN], tmp_path, threads=2, timeout=900)  # ~25 s alone, ~30 s beside another worker
    assert result.returncode == 0, result.stderr[-3000:]
    run = only_run(tmp_path)
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["test"]["test/acc"] > 0.951
    assert "final metrics" in result.stdout and (run / "checkpoints" / "best.ckpt").is_file()


def test_multirun_sweeps_models(tmp_path):
    result = run_cli([TRAIN, "-m", "model=rnn,gru", "debug=fast_dev_run", "logger=csv"], tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    runs = sorted((tmp_path / "logs" / "train" / "multiruns").glob("*/*/metrics.json"))
    assert len(runs) == 2
    assert {json.loads(r.read_text())["test"]["test/acc"] >= 0 for r in runs} == {True}


def test_a_failing_job_reports_clearly_and_the_sweep_goes_on(tmp_path):
    """A user's mistake in one job of a sweep (aligned cannot use the adding problem) must not cost the others."""
    result = run_cli(
        [
            TRAIN,
            "-m",
            "task=aligned,many_to_one",
            "data=adding",
            "data.length=20",
            "data.n_train=16",
            "data.n_val=8",
            "data.n_test=8",
            "debug=fast_dev_run",
            "logger=csv",
        ],
        tmp_path,
    )
    assert result.returncode == 1
    assert "seqzoo: error: task=aligned cannot use data=AddingDataModule" in result.stderr
    runs = list((tmp_path / "logs" / "train" / "multiruns").glob("*/*/metrics.json"))
    assert len(runs) == 1 and json.loads(runs[0].read_text())["test"]["test/mse"] >= 0


def test_a_missing_optional_package_names_its_extra(capsys):
    from hydra.errors import InstantiationException

    from seqzoo.cli import guarded, missing_extra

    assert (missing_extra("Requirement 'mlflow>=1.0.0' not met"), missing_extra("`wandb` is not installed")) == (
        "mlflow",
        "wandb",
    )
    assert missing_extra("No module named 'somethingelse'") is None

    def fails(cfg):
        try:
            raise ModuleNotFoundError("`RichProgressBar` requires `rich` >= 10.2.2.")
        except ModuleNotFoundError as e:
            raise InstantiationException("Error in call to target") from e

    with pytest.raises(SystemExit) as stop:
        guarded(fails, None)
    assert stop.value.code == 2 and 'pip install -e ".[rich]"' in capsys.readouterr().err
