"""What a seqzoo checkpoint holds beyond Lightning's own keys, and reading it back safely (tensors and plain
data only: ``torch.load(weights_only=True)``).

Under ``checkpoint["seqzoo"]``: the resolved run config, the data's sizes and class names (``data_info``)
and the DataModule's fitted state (normalisation, vocabularies). With these, evaluate and predict rebuild
the exact model and preprocessing from the checkpoint alone.
"""

import pickle
from pathlib import Path

import lightning as L
import torch

from seqzoo.errors import SeqzooError

KEY = "seqzoo"


class RunInfo(L.Callback):
    """Writes the run's config and data state into every checkpoint the Trainer saves."""

    def __init__(self, config: dict, data_info: dict, data_state: dict):
        self.payload = {"config": config, "data_info": data_info, "data_state": data_state}

    def on_save_checkpoint(self, trainer, pl_module, checkpoint: dict) -> None:
        checkpoint[KEY] = self.payload


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
            raise SeqzooError(f"checkpoint {path} holds Python objects beyond tensors and plain data, which seqzoo does not "
                              f"unpickle (that could run code from the file); seqzoo-train never writes such objects; {hint}") from None
        raise SeqzooError(f"checkpoint {path} cannot be read ({type(e).__name__}: {e}); the file is corrupt or not a checkpoint; {hint}") from None
    if not isinstance(ckpt, dict) or "state_dict" not in ckpt:
        raise SeqzooError(f"{path} is not a Lightning checkpoint (no state_dict); {hint}")
    if KEY not in ckpt:
        raise SeqzooError(f"{path} was not written by seqzoo-train (it has no '{KEY}' entry); {hint}")
    return ckpt
