"""seqzoo-tune: a tiny Optuna study runs, prunes a trial that is made to be bad, continues when run again,
and writes a preset that trains; bad arguments are one message."""

import shutil

import optuna
import pytest

from seqzoo import configs
from seqzoo.cli import compose_config
from seqzoo.train import train
from seqzoo.tune import main, preset, split_arguments

BASE = [
    "model=gru",
    "model.hidden_size=16",
    "data=japanese_vowels",
    "trainer.max_epochs=3",
    "logger=csv",
    "callbacks.progress_bar.refresh_rate=0",
]


@pytest.fixture
def config_dir(tmp_path, monkeypatch):
    """A copy of seqzoo's configs with a search space of two learning rates: 0.01 learns, 1e-9 cannot."""
    root = tmp_path / "configs"
    shutil.copytree(configs.CONFIG_DIR, root)
    (root / "tune" / "lr.yaml").write_text(
        "space:\n  task.optimizer.lr: {type: categorical, choices: [0.01, 1.0e-9]}\n"
        "n_trials: 2\ntimeout: null\nseed: 0\npruner: median\nstartup_trials: 1\nwarmup_epochs: 0\nstudy: "
        "lr\nroot: null\n"
        "overrides: []\n"
    )
    monkeypatch.setattr(configs, "CONFIG_DIR", str(root))
    return root


def test_a_study_prunes_the_bad_trial_continues_and_writes_a_preset_that_trains(tmp_path, config_dir):
    root = tmp_path / "studies"
    storage = f"sqlite:///{root / 'lr' / 'study.db'}"
    (root / "lr").mkdir(parents=True)
    study = optuna.create_study(study_name="lr", storage=storage)
    study.enqueue_trial(
        {"task.optimizer.lr": 0.01}
    )  # the good rate first, so that the bad one has a curve to fall behind
    study.enqueue_trial({"task.optimizer.lr": 1e-9})
    assert main(["tune=lr", f"tune.root={root}", *BASE]) == 0
    trials = optuna.load_study(study_name="lr", storage=storage).trials
    assert [t.state.name for t in trials] == ["COMPLETE", "PRUNED"]
    assert trials[1].user_attrs["overrides"] == ["task.optimizer.lr=1e-09"]
    assert (root / "lr" / "trials" / "000" / "metrics.json").is_file() and not (
        root / "lr" / "trials" / "001" / "metrics.json"
    ).exists()
    table = (root / "lr" / "trials.md").read_text()
    assert "| 0 | complete |" in table and "| 1 | pruned |" in table and (root / "lr" / "history.png").is_file()

    assert main(["tune=lr", f"tune.root={root}", "tune.n_trials=3", *BASE]) == 0  # run again: one more trial, not three
    assert len(optuna.load_study(study_name="lr", storage=storage).trials) == 3

    assert not (config_dir / "experiment" / "tuned").exists()  # the installed configs are never written to
    own = root / "lr" / "configs"
    written = (own / "experiment" / "tuned" / "lr.yaml").read_text()
    assert "override /model: gru" in written and "lr: 0.01" in written
    cfg = compose_config(
        [f"hydra.searchpath=[file://{own}]", "experiment=tuned/lr", "trainer.max_epochs=1"],
        output_dir=tmp_path / "again",
    )
    assert cfg.task.optimizer.lr == 0.01 and cfg.model.hidden_size == 16 and cfg.model._target_.endswith("GRU")
    assert train(cfg)["test"]["test/acc"] > 0


def test_arguments_and_presets():
    assert split_arguments(["tune=x", "tune.n_trials=5", "model=gru", "data.batch_size=8"]) == (
        "x",
        {"n_trials": "5"},
        ["model=gru", "data.batch_size=8"],
    )
    text = preset(["model=gru", "data.batch_size=8"], ["task.optimizer.lr=0.01"])
    assert "  - override /model: gru\n  - _self_" in text and "batch_size: 8" in text and "lr: 0.01" in text


def test_an_unknown_space_is_named(capsys):
    assert main(["tune=nope", "model=gru"]) == 2
    assert "tune=nope: no tune/nope.yaml in seqzoo's configs; known: bai2018, default" in capsys.readouterr().err


def test_settings_and_spaces_are_checked_before_any_trial(tmp_path, capsys):
    root = tmp_path / "studies"
    for setting, said in (
        ("tune.n_trials=abc", "tune.n_trials=abc: expected a whole number >= 1"),
        ("tune.n_trials=0", "tune.n_trials=0: expected a whole number >= 1"),
        ("tune.pruner=hyperband", "tune.pruner=hyperband: choose median or none"),
    ):
        assert main([setting, f"tune.root={root}", *BASE]) == 2
        assert said in capsys.readouterr().err
    spaces = {
        "model.hidden_sise": "the composed config has no model.hidden_sise",
        "model.hidden_size": "type 'gaussian' is not one of float, int, categorical",
    }
    for key, said in spaces.items():
        kind = "gaussian" if key == "model.hidden_size" else "int"
        assert main([f"tune.space={{{key}: {{type: {kind}, low: 8, high: 16}}}}", f"tune.root={root}", *BASE]) == 2
        assert said in capsys.readouterr().err
    assert (
        main(
            [
                "tune.space={task.optimizer.lr: {type: float, low: 0.0, high: 0.1, log: true}}",
                f"tune.root={root}",
                *BASE,
            ]
        )
        == 2
    )
    assert "low > 0 on a log scale" in capsys.readouterr().err
    assert not root.exists()  # nothing ran, nothing was written


def test_a_study_where_no_trial_completes_fails_naming_the_first_failure(tmp_path, capsys):
    code = main(["tune.n_trials=2", f"tune.root={tmp_path}", "tune.study=gpu", "trainer=gpu", *BASE])
    err = capsys.readouterr().err
    assert code == 2 and "no trial of study gpu completed; trial 0 failed:" in err and "GPU" in err
    assert "| 0 | fail |" in (tmp_path / "gpu" / "trials.md").read_text()


def test_processes_sharing_a_study_draw_different_trials_and_a_rerun_draws_the_same(tmp_path):
    from seqzoo.tune import trial_seeded_sampler

    def draw(study):
        return study.ask().suggest_float("x", 0.0, 1.0)

    storage = f"sqlite:///{tmp_path / 'a.db'}"
    first = optuna.create_study(study_name="s", storage=storage, sampler=trial_seeded_sampler(0))
    second = optuna.load_study(study_name="s", storage=storage, sampler=trial_seeded_sampler(0))  # another process
    drawn = [draw(first), draw(second), draw(first)]
    assert len(set(drawn)) == 3  # one seed per process would have drawn trial 1 equal to trial 0
    again = optuna.create_study(
        study_name="s", storage=f"sqlite:///{tmp_path / 'b.db'}", sampler=trial_seeded_sampler(0)
    )
    assert [draw(again) for _ in range(3)] == drawn


def test_trial_folders_without_their_study_database_are_explained(tmp_path, capsys):
    (tmp_path / "lost" / "trials" / "000").mkdir(parents=True)
    assert main([f"tune.root={tmp_path}", "tune.study=lost", *BASE]) == 2
    assert "holds 1 trial folders but" in capsys.readouterr().err and not (tmp_path / "lost" / "study.db").exists()
