"""Running on a SLURM cluster through Lightning's own support (``trainer=slurm``).

Lightning detects a job started with ``srun`` (``SLURMEnvironment``: ranks, nodes and the master address
from SLURM's variables). With ``auto_requeue``, the signal SLURM sends before the time limit or a
preemption (``#SBATCH --signal=USR1@90``) makes Lightning save ``hpc_ckpt_<n>.ckpt`` in the run folder and
``scontrol requeue`` the job; the requeued job runs the same command, finds its folder (named by the job id,
``run_dirs.own_slurm_folder``) and Lightning resumes from that checkpoint. submitit (Hydra's submitit
launcher) signals USR2 instead, hence ``requeue_signal``.
"""

import signal

from lightning.pytorch.plugins.environments import SLURMEnvironment


def slurm_environment(requeue_signal: str = "USR1", auto_requeue: bool = True) -> SLURMEnvironment:
    """``requeue_signal``: the signal's name without SIG (USR1, USR2, TERM)."""
    return SLURMEnvironment(auto_requeue=auto_requeue, requeue_signal=getattr(signal, f"SIG{requeue_signal.upper()}"))
