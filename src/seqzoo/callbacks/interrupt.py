"""Ctrl-C or a scheduler's SIGTERM in the middle of an epoch: finish the batch in hand, save a checkpoint at
that step, stop, and say the command that resumes it.

Lightning on its own turns Ctrl-C into "attempting graceful shutdown" and exit status 1, and loses the work
since the last checkpoint. Here the first SIGINT or SIGTERM only sets a flag; at the end of the training
batch in flight (a consistent point: the optimiser has stepped, the loop counters agree) the callback saves
``path`` and raises ``Interrupted``. Resuming from it skips the batches the epoch had already trained on and
restores the random state (``seqzoo.checkpoint.RunInfo``), so the resumed run ends where the uninterrupted
one would have. A second Ctrl-C stops at once, as usual. Checkpoints are written by Lightning's checkpoint
IO, which writes a temporary file and renames it: a ``kill -9`` during the write leaves the previous file.
"""

import os
import shlex
import signal
import sys
import threading

import lightning as L
from hydra.core.hydra_config import HydraConfig

from seqzoo.errors import SeqzooError


class Interrupted(SeqzooError):
    def __init__(self, signum: int, step: int, saved: str):
        self.signum, self.step, self.saved = signum, step, saved
        self.exit_code = 128 + signum  # the shell's convention: 130 for Ctrl-C, 143 for SIGTERM
        super().__init__(
            f"interrupted by {signal.Signals(signum).name} at step {step}; the run was saved at that step in {saved}"
        )


class SaveOnInterrupt(L.Callback):
    def __init__(self, path: str):
        self.path = path
        self.signum: int | None = None
        self.previous: dict = {}

    def on_train_start(self, trainer, pl_module) -> None:
        # after Lightning registers its own SIGTERM handler, which ours replaces for the length of training
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                self.previous[signum] = signal.signal(signum, self.received)

    def received(self, signum, frame) -> None:
        if self.signum is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt  # the second Ctrl-C: stop now, without saving
        self.signum = signum
        print(
            f"\n{signal.Signals(signum).name} received: saving after this batch (Ctrl-C again stops at once, unsaved)",
            flush=True,
        )

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if self.signum is not None:
            trainer.save_checkpoint(self.path)
            raise Interrupted(self.signum, trainer.global_step, self.path)

    def teardown(self, trainer, pl_module, stage: str) -> None:
        for signum, handler in self.previous.items():
            signal.signal(signum, handler)
        self.previous = {}


def resume_command(ckpt: str | None, extra: tuple[str, ...] = ()) -> str:
    """The command line that continues this run from ``ckpt``: the same program and overrides, plus
    ``ckpt_path``, in a new run folder; or, without ``ckpt``, plus ``extra`` (an ensemble goes on in its own)."""
    program = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "train.py"
    program = f"python {program}" if program.endswith(".py") else program
    overrides = HydraConfig.get().overrides.task if HydraConfig.initialized() else []
    kept = [o for o in overrides if not o.split("=", 1)[0].lstrip("+~") in ("ckpt_path", "hydra.run.dir", "overwrite")]
    tail = [f"ckpt_path={ckpt}"] if ckpt else list(extra)
    return " ".join([program, *map(shlex.quote, kept), *map(shlex.quote, tail)])
