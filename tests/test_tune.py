"""seqzoo-tune: a tiny Optuna study runs, prunes a trial that is made to be bad, continues when run again,
and writes a preset that trains; bad arguments are one message."""

import shutil

import optuna
import pytest

from seqzoo import configs
from seqzoo.cli import compose_config
from seqzoo.train import train
from seqzoo.tune import main, preset, split_arguments

BASE = ["model=gru", "model.hidden_size=16", "data=japanese_vowels", "trainer.max_epochs=3", "logger=csv",
        "callbacks.progress_bar.refresh_rate=0"]


@pytest.fixture
def config_dir(tmp_path, monkeypatch):
    """A copy of seqzoo's configs with a search space of two learning rates: 0.01 learns, 1e-9 cannot."""
    root = tmp_path / "configs"
    shutil.copytree(configs.CONFIG_DIR, root)
    (root / "tune" / "lr.yaml").write_text(
        "space:\n  task.optimizer.lr: {type: categorical, choices: [0.01, 1.0e-9]}\n"
        "n_trials: 2\ntimeout: null\nseed: 0\npruner: median\nstartup_trials: 1\nwarmup_epochs: 0\nstudy: lr\nroot: null\n"
        "overrides: []\n")
    monkeypatch.setattr(configs, "CONFIG_DIR", str(root))
    return root


def test_a_study_prunes_the_bad_trial_continues_and_writes_a_preset_that_trains(tmp_path, config_dir):
    root = tmp_path / "studies"
    storage = f"sqlite:///{root / 'lr' / 'study.db'}"
    (root / "lr").mkdir(parents=True)
    study = optuna.create_study(study_name="lr", storage=storage)
    study.enqueue_trial({"task.optimizer.lr": 0.01})  # the good rate first, so that the bad one has a curve to fall behind
    study.enqueue_trial({"task.optimizer.lr": 1e-9})
    assert main(["tune=lr", f"tune.root={root}", *BASE]) == 0
    trials = optuna.load_study(study_name="lr", storage=storage).trials
    assert [t.state.name for t in trials] == ["COMPLETE", "PRUNED"]
    assert trials[1].user_attrs["overrides"] == ["task.optimizer.lr=1e-09"]
    assert (root / "lr" / "trials" / "000" / "metrics.json").is_file() and not (root / "lr" / "trials" / "001" / "metrics.json").exists()
    table = (root / "lr" / "trials.md").read_text()
    assert "| 0 | complete |" in table and "| 1 | pruned |" in table and (root / "lr" / "history.png").is_file()

    assert main(["tune=lr", f"tune.root={root}", "tune.n_trials=3", *BASE]) == 0  # run again: one more trial, not three
    assert len(optuna.load_study(study_name="lr", storage=storage).trials) == 3

    assert not (config_dir / "experiment" / "tuned").exists()  # the installed configs are never written to
    own = root / "lr" / "configs"
    written = (own / "experiment" / "tuned" / "lr.yaml").read_text()
    assert "override /model: gru" in written and "lr: 0.01" in written
    cfg = compose_config([f"hydra.searchpath=[file://{own}]", "experiment=tuned/lr", "trainer.max_epochs=1"],
                         output_dir=tmp_path / "again")
    assert cfg.task.optimizer.lr == 0.01 and cfg.model.hidden_size == 16 and cfg.model._target_.endswith("GRU")
    assert train(cfg)["test"]["test/acc"] > 0


def test_arguments_and_presets():
    assert split_arguments(["tune=x", "tune.n_trials=5", "model=gru", "data.batch_size=8"]) == ("x", {"n_trials": "5"}, ["model=gru", "data.batch_size=8"])
    text = preset(["model=gru", "data.batch_size=8"], ["task.optimizer.lr=0.01"])
    assert "  - override /model: gru\n  - _self_" in text and "batch_size: 8" in text and "lr: 0.01" in text


def test_an_unknown_space_is_named(capsys):
    assert main(["tune=nope", "model=gru"]) == 2
    assert "tune=nope: no tune/nope.yaml in seqzoo's configs; known: bai2018, default" in capsys.readouterr().err
