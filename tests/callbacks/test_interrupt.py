"""Ctrl-C and SIGTERM mid-epoch, in a real process: a checkpoint at that step, the resume command printed,
and the resumed run ends with the uninterrupted run's metrics. A kill -9 while a checkpoint is written leaves
the previous good file."""

import json
import shlex
import signal
import subprocess
import sys
import time

import pytest
import torch

from tests.conftest import ROOT, run_cli

# 3 epochs of 5 batches, dropout on (the resumed run must restore the random state too)
RUN = [
    "train.py",
    "debug=limit",
    "logger=csv",
    "trainer.max_epochs=3",
    "trainer.limit_train_batches=5",
    "trainer.limit_val_batches=2",
    "trainer.limit_test_batches=2",
    "model.hidden_size=8",
    "model.dropout=0.3",
    "model.num_layers=2",
    "seed=5",
    "callbacks.progress_bar=null",
]


def metrics_of(run_dir):
    return json.loads((run_dir / "metrics.json").read_text())


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_an_interrupt_mid_epoch_saves_that_step_and_the_printed_command_resumes_it_exactly(tmp_path, signum):
    straight = run_cli([*RUN, f"hydra.run.dir={tmp_path / 'straight'}"], ROOT)
    assert straight.returncode == 0, straight.stderr
    stopped = run_cli(
        [
            *RUN,
            f"hydra.run.dir={tmp_path / 'stopped'}",
            "+callbacks.signal._target_=tests.callbacks.signal_at.SignalAt",
            "+callbacks.signal.step=7",
            f"+callbacks.signal.signum={int(signum)}",
        ],
        ROOT,
    )
    assert stopped.returncode == 128 + signum, stopped.stderr
    last = tmp_path / "stopped" / "checkpoints" / "last.ckpt"
    assert torch.load(last, weights_only=True)["global_step"] == 8  # the batch in flight at step 7 finished
    assert metrics_of(tmp_path / "stopped")["interrupted"]["step"] == 8
    message = stopped.stderr.strip().splitlines()
    assert (
        f"interrupted by {signal.Signals(signum).name} at step 8" in stopped.stderr and "Resume with:" in stopped.stderr
    )
    command = shlex.split(message[-1])
    assert command[:2] == ["python", "train.py"] and f"ckpt_path={last}" in command
    assert not any(a.startswith(("hydra.run.dir", "ckpt_path=None")) for a in command)
    args = [a for a in command[1:] if not a.startswith("+callbacks.signal")]  # the test's own signal, not the user's
    resumed = run_cli([*args, f"hydra.run.dir={tmp_path / 'resumed'}"], ROOT)
    assert resumed.returncode == 0, resumed.stderr
    a, b = metrics_of(tmp_path / "straight"), metrics_of(tmp_path / "resumed")
    assert b["global_step"] == a["global_step"] == 15
    for split in ("val", "test"):
        for k, v in a[split].items():
            assert b[split][k] == v, (split, k)  # the same operations in the same order: bit for bit


WRITER = """
import sys, torch
from lightning.pytorch.plugins.io import TorchCheckpointIO
io, big = TorchCheckpointIO(), {"state_dict": {"w": torch.randn(4_000_000)}}
io.save_checkpoint(big, sys.argv[1]); print("first", flush=True)
while True:
    big["state_dict"]["w"] += 1
    io.save_checkpoint(big, sys.argv[1])
"""


def test_a_kill_during_a_checkpoint_write_leaves_the_previous_file_whole(tmp_path):
    """Checkpoints go through Lightning's checkpoint IO, which writes a temporary file and renames it."""
    path = tmp_path / "last.ckpt"
    for delay in (0.05, 0.13, 0.31):
        writer = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True)
        assert writer.stdout.readline().strip() == "first"
        time.sleep(delay)
        writer.kill()  # SIGKILL: no handler runs
        writer.wait()
        w = torch.load(path, weights_only=True)["state_dict"]["w"]
        assert w.shape == (4_000_000,) and torch.isfinite(w).all()
