"""Every run gets a folder of its own, and a folder that holds a run is never written over unasked.

Folders were named to the second, so two runs started in the same second (an array job, a shell loop with
``&``) wrote into one. They are now named ``<date>_<time>_<6 hex digits drawn once per process>``. A
``hydra.run.dir`` (or ``hydra.sweep.dir``) given explicitly that already holds a run is refused before
Hydra writes anything into it, unless ``overwrite=true``.
"""

import os
import secrets
import sys
from pathlib import Path

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from seqzoo.atomic import write_text
from seqzoo.errors import SeqzooError

RUN_ID = secrets.token_hex(3)
OmegaConf.register_new_resolver("run_id", lambda: RUN_ID, replace=True)

OURS = ("config.yaml", "metrics.json", "checkpoints", "predictions.csv")  # what seqzoo writes into a run folder


SLURM_MARK = "slurm_job_id"  # written into a run folder by a SLURM job: the requeued job may come back to it


def own_slurm_folder(folder) -> bool:
    """A SLURM job requeued after preemption runs its command again: the folder its first start made (named by
    the job id, and marked with it) is its own to resume in, not another run's."""
    job = os.environ.get("SLURM_JOB_ID")
    mark = Path(folder) / SLURM_MARK
    return bool(job) and mark.is_file() and mark.read_text().strip() == job


def mark_slurm_folder(folder) -> None:
    if os.environ.get("SLURM_JOB_ID") and os.environ.get("LOCAL_RANK", "0") == "0":
        write_text(Path(folder) / SLURM_MARK, os.environ["SLURM_JOB_ID"])


def check_new(folder, overwrite: bool, markers=OURS) -> None:
    """Refuse ``folder`` if it already holds what a run writes, unless ``overwrite`` or it is this SLURM job's
    own folder. Only the first process of a distributed run checks: Lightning starts the others in the folder
    the first one made."""
    if os.environ.get("LOCAL_RANK", "0") != "0" or own_slurm_folder(folder):
        return
    found = [m for m in markers if (Path(folder) / m).exists()]
    if found and not overwrite:
        raise SeqzooError(
            f"{folder} already holds a run ({', '.join(found)}); leave hydra.run.dir out for a new folder "
            "of its own, name another, or add overwrite=true to write over it"
        )


class RefuseExistingRun(Callback):
    """Hydra callback: runs before Hydra creates the folder and writes its .hydra/ files into it."""

    def on_run_start(self, config: DictConfig, **kwargs) -> None:
        self.check(config.hydra.run.dir, config)

    def on_multirun_start(self, config: DictConfig, **kwargs) -> None:
        self.check(config.hydra.sweep.dir, config)

    @staticmethod
    def check(folder: str, config: DictConfig) -> None:
        try:
            check_new(folder, bool(config.get("overwrite")), OURS + (".hydra", "multirun.yaml"))
        except SeqzooError as e:
            print(f"seqzoo: error: {e}", file=sys.stderr)
            sys.exit(2)
