"""seqzoo installs like a library: a wheel built from the checkout, installed into a new environment outside
the repository, trains, evaluates a model by name, predicts and tunes from an empty folder, and takes a data
set from a config folder of the user's own (``--config-dir``), with the configs found inside the package."""

import os
import shutil
import subprocess
import sys
import sysconfig

import numpy as np
import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow


def run(args, cwd, env, ok=True):
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert (done.returncode == 0) == ok, f"{args}: exit {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def wheel_env(tmp_path_factory):
    """A new virtual environment holding the wheel alone; its dependencies are this environment's (a path
    entry, not a copy: installing torch again would take minutes), never the checkout's sources."""
    root = tmp_path_factory.mktemp("wheel")
    source = root / "source"  # a copy, so the build leaves nothing in the checkout
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(
            ".git", ".venv*", "logs", "docs", "tests", "build", "dist", "*.egg-info", "__pycache__"
        ),
    )
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            str(root / "dist"),
            str(source),
        ],
        root,
        os.environ,
    )
    wheel = next((root / "dist").glob("seqzoo-*.whl"))
    venv = root / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)], root, os.environ)
    site = next((venv / "lib").glob("python3*/site-packages"))
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")  # appended after the venv's own
    run(
        [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "--no-deps", str(wheel)],
        root,
        os.environ,
    )
    shutil.rmtree(source)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(PATH=f"{venv / 'bin'}{os.pathsep}{env['PATH']}", OMP_NUM_THREADS="1")
    return venv / "bin", env


def test_the_wheel_holds_its_configs_and_imports_from_outside_the_checkout(wheel_env, tmp_path):
    bin_, env = wheel_env
    where = run(
        [str(bin_ / "python"), "-c", "import seqzoo.configs as c; print(c.__file__); print(c.config_options('model'))"],
        tmp_path,
        env,
    ).stdout
    assert str(ROOT) not in where.splitlines()[0] and "site-packages" in where  # the installed copy, not the sources
    assert "'lstm'" in where and "'mamba'" in where


def test_train_eval_predict_and_a_user_config_folder_from_an_empty_folder(wheel_env, tmp_path):
    bin_, env = wheel_env
    quick = ["logger=csv", "callbacks.progress_bar.refresh_rate=0"]
    done = run([str(bin_ / "seqzoo-train"), "+trainer.fast_dev_run=true", *quick], tmp_path, env)
    assert "test" in done.stdout and (tmp_path / "logs" / "train").is_dir()

    mine = (
        tmp_path / "my_configs" / "data"
    )  # a data set of the user's own: seqzoo's adding problem, extended and shortened
    mine.mkdir(parents=True)
    (mine / "short_adding.yaml").write_text(
        "defaults:\n  - adding\n  - _self_\nlength: 12\nn_train: 64\nn_val: 32\nn_test: 32\n"
    )
    done = run(
        [
            str(bin_ / "seqzoo-train"),
            "--config-dir",
            str(tmp_path / "my_configs"),
            "data=short_adding",
            "+trainer.max_steps=3",
            "task.target_length=null",
            *quick,
        ],
        tmp_path,
        env,
    )
    assert "mse" in done.stdout and len(list((tmp_path / "logs" / "train" / "runs").glob("*/metrics.json"))) == 2
    unknown = run(
        [str(bin_ / "seqzoo-train"), "data=short_adding", *quick], tmp_path, env, ok=False
    )  # without the folder: named
    assert "short_adding" in unknown.stderr and "Traceback" not in unknown.stderr

    done = run([str(bin_ / "seqzoo-eval"), "pretrained=japanese_vowels_lstm"], tmp_path, env)
    assert "acc" in done.stdout

    np.savez(tmp_path / "x.npz", a=np.random.default_rng(0).normal(size=(10, 12)).astype("float32"))
    run(
        [
            str(bin_ / "seqzoo-predict"),
            "pretrained=japanese_vowels_lstm",
            f"input={tmp_path / 'x.npz'}",
            f"output={tmp_path / 'p.csv'}",
        ],
        tmp_path,
        env,
    )
    assert (tmp_path / "p.csv").read_text().count("\n") == 2  # a header and one row


def test_tune_from_an_empty_folder_writes_its_preset_beside_its_study(wheel_env, tmp_path):
    bin_, env = wheel_env
    run(
        [
            str(bin_ / "seqzoo-tune"),
            "tune.n_trials=1",
            f"tune.root={tmp_path / 'studies'}",
            "tune.study=s",
            "model=gru",
            "model.hidden_size=8",
            "trainer.max_epochs=1",
            "logger=csv",
            "callbacks.progress_bar.refresh_rate=0",
        ],
        tmp_path,
        env,
    )
    preset = tmp_path / "studies" / "s" / "configs" / "experiment" / "tuned" / "s.yaml"
    assert preset.is_file()
    run(
        [
            str(bin_ / "seqzoo-train"),
            "--config-dir",
            str(preset.parents[2]),
            "experiment=tuned/s",
            "+trainer.fast_dev_run=true",
            "logger=csv",
        ],
        tmp_path,
        env,
    )
