"""What a seqzoo checkpoint holds beyond Lightning's own keys, and reading it back safely (tensors and plain
data only: ``torch.load(weights_only=True)``).

Under ``checkpoint["seqzoo"]``: the resolved run config, the data's sizes and class names (``data_info``)
the DataModule's fitted state (normalisation, vocabularies) and the package versions it was made with. With these,
evaluate and predict rebuild
the exact model and preprocessing from the checkpoint alone. A checkpoint saved in the middle of an epoch
(an interrupt, ``checkpoint_every_n_steps``) also holds the random number generators' state, and resuming
it skips the batches the epoch has already trained on: the resumed run takes the steps the uninterrupted
run would have taken.
"""

import pickle
import warnings
from pathlib import Path

import lightning as L
import torch

from seqzoo.errors import SeqzooError
from seqzoo.versions import versions

KEY = "seqzoo"
# Lightning warns on every mid-epoch resume that the loader cannot resume; ours can (RunInfo below)
warnings.filterwarnings("ignore", message="You're resuming from a checkpoint that ended before the epoch ended")


class RunInfo(L.Callback):
    """Writes the run's config and data state into every checkpoint the Trainer saves."""

    def __init__(self, config: dict, data_info: dict, data_state: dict):
        self.payload = {"config": config, "data_info": data_info, "data_state": data_state, "versions": versions()}

    def on_save_checkpoint(self, trainer, pl_module, checkpoint: dict) -> None:
        rng = {"cpu": torch.get_rng_state()}
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            rng["cuda"] = torch.cuda.get_rng_state_all()
        checkpoint[KEY] = {**self.payload, "rng": rng}

    def on_load_checkpoint(self, trainer, pl_module, checkpoint: dict) -> None:
        """On resume: the dropout masks and the rest of the epoch continue as if never stopped."""
        rng = checkpoint.get(KEY, {}).get("rng")
        if rng:
            torch.set_rng_state(rng["cpu"])
            if "cuda" in rng and torch.cuda.is_available():
                torch.cuda.set_rng_state_all(rng["cuda"])
        if trainer.datamodule is not None:
            trainer.datamodule.resume_at = batches_done(checkpoint)


def batches_done(checkpoint: dict) -> int:
    """How many batches of its epoch a checkpoint had trained on; 0 when it was saved after the epoch's last
    batch (the resumed run starts the next epoch from its first batch)."""
    progress = checkpoint.get("loops", {}).get("fit_loop", {}).get("epoch_loop.batch_progress", {})
    return 0 if progress.get("is_last_batch", True) else progress.get("current", {}).get("processed", 0)


def load_checkpoint(path: str | Path) -> dict:
    """Read a checkpoint on the CPU, turning every way it can be wrong into a message with the fix."""
    path = Path(str(path)).expanduser()
    hint = "pass ckpt_path=<run dir>/checkpoints/best.ckpt (or last.ckpt) of a seqzoo-train run"
    if not path.is_file():
        raise SeqzooError(f"checkpoint {path} does not exist; {hint}")
    try:  # tensors and plain data only: unpickling arbitrary objects would run code from the file
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # truncated, not a zip, wrong pickle: all mean "not a usable checkpoint"
        if isinstance(e, pickle.UnpicklingError) and "weights only" in str(e).lower():
            raise SeqzooError(
                f"checkpoint {path} holds Python objects beyond tensors and plain data, which seqzoo does not "
                f"unpickle (that could run code from the file); seqzoo-train never writes such objects; {hint}"
            ) from None
        raise SeqzooError(
            f"checkpoint {path} cannot be read ({type(e).__name__}: {e}); the file is corrupt or not a checkpoint; "
            f"{hint}"
        ) from None
    if not isinstance(ckpt, dict) or "state_dict" not in ckpt:
        raise SeqzooError(f"{path} is not a Lightning checkpoint (no state_dict); {hint}")
    if KEY not in ckpt:
        raise SeqzooError(f"{path} was not written by seqzoo-train (it has no '{KEY}' entry); {hint}")
    return ckpt
