"""Beyond one process, without a cluster: a real CPU training process with SLURM's variables set
(``trainer=slurm``) gets the requeue signal, Lightning saves its HPC checkpoint in the run folder; the job is
then stopped, and the same command, as a requeued job runs it, goes back into its own folder and resumes from
that checkpoint. torchrun starts two CPU processes (gloo) that train as one run; the submitit signal is
configurable."""

import json
import os
import signal
import subprocess
import sys

import pytest
import torch
from hydra.utils import instantiate

from seqzoo.cli import compose_config
from tests.callbacks.test_interrupt import RUN
from tests.conftest import ROOT

SLURM = {
    "SLURM_JOB_ID": "4242",
    "SLURM_NTASKS": "1",
    "SLURM_NTASKS_PER_NODE": "1",
    "SLURM_NNODES": "1",
    "SLURM_JOB_NAME": "train",
    "SLURM_PROCID": "0",
    "SLURM_LOCALID": "0",
    "SLURM_NODEID": "0",
    "SLURM_NODELIST": "localhost",
}


def run(args, env):
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_a_requeued_job_resumes_in_its_own_folder_from_lightnings_hpc_checkpoint(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLURM_")}
    folder = tmp_path / "slurm" / "4242"
    job = [*RUN, "trainer=slurm", "trainer.accelerator=cpu", f"hydra.run.dir={folder}"]
    signals = [
        "+callbacks.usr1._target_=tests.callbacks.signal_at.SignalAt",
        "+callbacks.usr1.step=7",
        f"+callbacks.usr1.signum={int(signal.SIGUSR1)}",
        "+callbacks.term._target_=tests.callbacks.signal_at.SignalAt",
        "+callbacks.term.step=10",
        f"+callbacks.term.signum={int(signal.SIGTERM)}",
    ]
    first = run([*job, *signals], {**env, **SLURM})
    assert first.returncode == 128 + signal.SIGTERM, first.stderr[-3000:]
    hpc = folder / "hpc_ckpt_1.ckpt"
    assert torch.load(hpc, weights_only=True)["global_step"] == 7 and (folder / "slurm_job_id").read_text() == "4242"

    other_job = run(job, {**env, **SLURM, "SLURM_JOB_ID": "999"})  # another job may not write into this folder
    assert other_job.returncode == 2 and "already holds a run" in other_job.stderr

    again = run(job, {**env, **SLURM, "SLURM_RESTART_COUNT": "1"})  # the requeued job: the same command
    assert again.returncode == 0, again.stderr[-3000:]
    assert "hpc_ckpt_1.ckpt" in again.stdout + again.stderr
    assert json.loads((folder / "metrics.json").read_text())["global_step"] == 15


@pytest.mark.slow
def test_torchrun_two_cpu_processes_train_one_run(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLURM_", "LOCAL_RANK", "RANK", "WORLD_SIZE"))}
    folder = tmp_path / "torchrun"
    done = run(
        [
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc-per-node=2",
            *RUN,
            "trainer=ddp_cpu",
            f"hydra.run.dir={folder}",
            "hydra.output_subdir=null",
        ],
        env,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    metrics = json.loads((folder / "metrics.json").read_text())
    assert (
        "MEMBER: 2/2" in done.stdout + done.stderr and metrics["global_step"] == 15
    )  # 5 batches per process and epoch
    assert sorted(p.name for p in tmp_path.iterdir()) == ["torchrun"]  # both processes wrote into one folder


def test_the_requeue_signal_is_configurable_for_submitit():
    cfg = compose_config(["trainer=slurm", "trainer.plugins.0.requeue_signal=USR2"])
    assert instantiate(cfg.trainer.plugins[0]).requeue_signal == signal.SIGUSR2
    assert instantiate(compose_config(["trainer=slurm"]).trainer.plugins[0]).requeue_signal == signal.SIGUSR1
