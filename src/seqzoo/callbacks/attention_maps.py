"""Save heatmaps of a decoder's attention over its memory for a few fixed validation examples, every
``every_n_epochs`` epochs: ``<dirpath>/epoch=007_example=2.png`` (names sort by epoch). The weights are
teacher-forced, so every epoch shows the same target against the same source."""

from pathlib import Path

import lightning as L
import torch

from seqzoo.atomic import atomic_path
from seqzoo.data.batch import INPUT_MASK, INPUTS, TARGETS


def plot(weights: torch.Tensor, rows: list[str], cols: list[str], title: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(max(3, 0.3 * len(cols) + 1.5), max(2.5, 0.3 * len(rows) + 1)))
    ax.imshow(weights.numpy(), cmap="viridis", aspect="auto", vmin=0, vmax=1)
    ax.set_xticks(range(len(cols)), cols, rotation=90, fontsize=7)
    ax.set_yticks(range(len(rows)), rows, fontsize=7)
    ax.set_xlabel("memory (source)")
    ax.set_ylabel("output step")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, format=Path(path).suffix.lstrip(".") or "png")
    plt.close(fig)


class AttentionMaps(L.Callback):
    def __init__(self, dirpath: str, num_examples: int = 4, every_n_epochs: int = 1):
        self.dirpath, self.num_examples, self.every_n_epochs = Path(dirpath), num_examples, every_n_epochs

    def on_validation_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if (
            not trainer.is_global_zero
            or trainer.sanity_checking
            or trainer.state.fn != "fit"
            or not hasattr(pl_module, "attention_maps")
        ):
            return
        if trainer.current_epoch % self.every_n_epochs:
            return
        loader = trainer.datamodule.val_dataloader()
        batch = next(iter(loader))
        batch = {k: v[: self.num_examples].to(pl_module.device) for k, v in batch.items()}
        was_training = pl_module.training
        pl_module.eval()
        weights = pl_module.attention_maps(batch)
        pl_module.train(was_training)
        if weights is None:
            return  # a decoder without attention: nothing to draw
        self.dirpath.mkdir(parents=True, exist_ok=True)
        targets = pl_module.target_labels(batch[TARGETS])
        source_vocab = getattr(trainer.datamodule, "source_vocab", None)
        for i in range(weights.shape[0]):
            rows = targets[i]
            s = int(batch[INPUT_MASK][i].sum()) if INPUT_MASK in batch else weights.shape[-1]
            offset = weights.shape[-1] - (batch[INPUT_MASK].shape[1] if INPUT_MASK in batch else weights.shape[-1])
            if source_vocab is not None and INPUTS in batch:  # a condition slot in front, for the Transformer
                cols = ["<cond>"] * offset + [source_vocab.tokens[t] for t in batch[INPUTS][i, :s].tolist()]
            else:
                cols = [str(j) for j in range(offset + s)]
            w = weights[i, : len(rows), : offset + s].float().cpu()
            name = f"epoch={trainer.current_epoch:03d}_example={i}.png"
            plot(w, rows, cols, f"epoch {trainer.current_epoch}, example {i}", self.dirpath / name)
