"""Shared fixtures: compose the real configs, shrunk to CPU, a temp run dir and a few batches."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from omegaconf import DictConfig, open_dict

from seqzoo.cli import CONFIG_DIR, compose_config

ROOT = Path(__file__).resolve().parents[1]

if os.environ.get("PYTEST_XDIST_WORKER"):
    # one thread per test worker: two workers spinning two OpenMP threads each on two cores slow tiny ops ~20x
    torch.set_num_threads(1)
    os.environ["OMP_NUM_THREADS"] = "1"


def config_names(group: str) -> list[str]:
    """Every option of a config group, discovered from configs/ so new files are tested without edits."""
    return sorted(p.stem for p in (Path(CONFIG_DIR) / group).glob("*.yaml"))


def make_cfg(out_dir: Path, overrides: list[str] = (), name: str = "train", cpu: bool = True) -> DictConfig:
    cfg = compose_config(overrides, name, output_dir=out_dir)
    with open_dict(cfg):
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


def run_cli(args: list[str], cwd: Path, timeout: int = 300) -> subprocess.CompletedProcess:
    """Run ``python train.py ...`` (or another entry point) as a user would, logs under ``cwd``."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
