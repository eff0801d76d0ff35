"""Shared fixtures: compose the real configs, shrunk to CPU, a temp run dir and a few batches."""

import copy
import functools
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from hydra.utils import get_class
from omegaconf import DictConfig, OmegaConf, open_dict

from seqzoo.cli import compose_config
from seqzoo.configs import config_options
from seqzoo.models.registry import list_models
from seqzoo.models.sizing import width_value

ROOT = Path(__file__).resolve().parents[1]

if os.environ.get("PYTEST_XDIST_WORKER"):
    # one thread per test worker: two workers spinning two OpenMP threads each on two cores slow tiny ops ~20x
    torch.set_num_threads(1)
    os.environ["OMP_NUM_THREADS"] = "1"


def config_names(group: str) -> list[str]:
    """Every option of a config group, discovered from configs/ so new files are tested without edits."""
    return config_options(group)


def encoder_names() -> list[str]:
    """The families that encode steps (every mapping); the direct forecasters (DLinear, N-BEATS) have tests of
    their own (tests/models/test_forecasters.py)."""
    return list_models("encoder")


@functools.cache
def family_config(group: str, name: str) -> tuple[type, dict]:
    """A family's class and config, composed once per test process (module-level parametrisations ask for the
    same ones again and again: a Hydra composition costs about half a second)."""
    node = compose_config([f"{group}={name}"])[group]
    return get_class(node._target_), OmegaConf.to_container(node)


def small_part(group: str, name: str, width: int = 8):
    """configs/<group>/<name>.yaml (a family's encoder or decoder) as a partial waiting for its sizes, at a
    small width (the knob the family declares) and without dropout: what the contract tests build, for
    every family found in configs/ with no list kept here."""
    family, node = family_config(group, name)
    kwargs = {k: copy.deepcopy(v) for k, v in node.items() if k not in ("_target_", "target_params")}
    knob = family.width
    if knob.multiple_of:
        width = max(width, 2 * int(kwargs.get(knob.multiple_of, 1)))
    kwargs[knob.key] = width_value(family, kwargs, width)
    kwargs.update({k: 0.0 for k in kwargs if k == "dropout"})
    return functools.partial(family, **kwargs)


def families_of(base: type) -> list[str]:
    """The model families in configs/model/ whose class derives from ``base`` (e.g. the recurrent ones)."""
    return [n for n in encoder_names() if issubclass(small_part("model", n).func, base)]


def make_cfg(out_dir: Path, overrides: list[str] = (), name: str = "train", cpu: bool = True) -> DictConfig:
    cfg = compose_config(overrides, name, output_dir=out_dir)
    with open_dict(cfg):
        if "log_dir" in cfg.get("paths", {}):  # shared stores (MLflow's database) beside the run, not in the checkout
            cfg.paths.log_dir = str(Path(out_dir) / "logs")
        cfg.trainer.enable_model_summary = False
        if cpu:
            cfg.trainer.accelerator = "cpu"
    return cfg


def chosen(group: str, overrides: list[str]) -> str:
    """Which option of ``group`` a composition ends up with (an experiment may pick the data set)."""
    return compose_config(overrides, hydra_config=True).hydra.runtime.choices[group]


@pytest.fixture
def cfg_factory(tmp_path):
    def factory(overrides=(), name="train", out=None):
        return make_cfg(out or tmp_path / "run", overrides, name)

    return factory


def load_script(name: str):
    """scripts/<name>.py as a module (the scripts are not a package)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_cli(args: list[str], cwd: Path, timeout: int = 300, threads: int | None = None) -> subprocess.CompletedProcess:
    """Run ``python train.py ...`` (or another entry point) as a user would, logs under ``cwd``; ``threads``
    sets the torch threads it may use (test workers are pinned to one). Its OpenMP threads wait passively: beside
    the other test worker, spinning ones made ``python train.py`` take 212 s instead of 28 (same numbers)."""
    more = {"OMP_NUM_THREADS": str(threads), "OMP_WAIT_POLICY": "PASSIVE"} if threads else {}
    env = dict(os.environ, PYTHONUNBUFFERED="1", **more)
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
