"""A callback that sends its own process a signal before a given training step: a deterministic Ctrl-C or
scheduler SIGTERM in the middle of an epoch, for subprocess tests (``+callbacks.signal._target_=...``)."""

import os
import signal

import lightning as L


class SignalAt(L.Callback):
    def __init__(self, step: int, signum: int = signal.SIGINT):
        self.step, self.signum = step, signum

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if trainer.global_step == self.step:
            os.kill(os.getpid(), self.signum)
