"""Run folders are never shared or silently written over."""

import re
import subprocess
import sys

import pytest

from seqzoo.errors import SeqzooError
from seqzoo.train import train
from tests.conftest import ROOT, make_cfg, run_cli

FAST = ["train.py", "debug=fast_dev_run", "logger=csv", "model.hidden_size=8", "callbacks.progress_bar=null"]


def test_runs_started_in_the_same_second_get_folders_of_their_own(tmp_path):
    """Two processes started together, as an array job or a shell loop with & starts them."""
    procs = [
        subprocess.Popen(
            [sys.executable, str(ROOT / FAST[0]), *FAST[1:], f"seed={i}"],
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(3)
    ]
    assert all(p.wait(timeout=300) == 0 for p in procs), [p.stderr.read() for p in procs]
    runs = sorted((tmp_path / "logs" / "train" / "runs").iterdir())
    assert len(runs) == 3 and all((r / "metrics.json").is_file() for r in runs)
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d_[0-9a-f]{6}", r.name) for r in runs)  # time, then an id


def test_a_folder_holding_a_run_is_refused_before_anything_is_written_unless_overwrite(tmp_path):
    run = tmp_path / "run"
    assert run_cli([*FAST, f"hydra.run.dir={run}"], ROOT).returncode == 0
    before = {p: p.read_bytes() for p in run.rglob("*") if p.is_file()}
    again = run_cli([*FAST, "seed=3", f"hydra.run.dir={run}"], ROOT)
    assert again.returncode == 2 and "Traceback" not in again.stderr
    assert f"seqzoo: error: {run} already holds a run" in again.stderr and "overwrite=true" in again.stderr
    assert {p: p.read_bytes() for p in run.rglob("*") if p.is_file()} == before  # not a byte changed
    assert run_cli([*FAST, "seed=3", f"hydra.run.dir={run}", "overwrite=true"], ROOT).returncode == 0
    assert (run / ".hydra" / "overrides.yaml").read_text() != before[run / ".hydra" / "overrides.yaml"].decode()


def test_train_from_python_refuses_it_too(tmp_path):
    train(make_cfg(tmp_path, ["debug=fast_dev_run"]))
    with pytest.raises(SeqzooError, match="already holds a run"):
        train(make_cfg(tmp_path, ["debug=fast_dev_run"]))
