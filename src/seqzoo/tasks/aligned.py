"""Many-to-many aligned: one output per input step (tagging, frame labelling, next-step prediction,
forecasting). Loss and metrics count real steps only. Data whose targets are the next inputs (``next_step``,
e.g. character language modelling), and ``causal=True`` for streaming, require a causal backbone."""

import inspect
import math

import lightning as L
import torch
import torchmetrics
from torch import nn

from seqzoo.data.batch import INPUT_MASK, INPUTS, TARGET_MASK, TARGETS
from seqzoo.data.vocab import SPECIALS
from seqzoo.errors import SeqzooError
from seqzoo.layers.masking import IGNORE_INDEX
from seqzoo.models.interface import is_causal, run_encoder
from seqzoo.sizes import with_sizes
from seqzoo.tasks.decoding import keep_top_k
from seqzoo.tasks.inputs import InputEmbedding, ReadsSequences
from seqzoo.tasks.optim import configure_optimizers
from seqzoo.tasks.scoring import class_metrics, scored_cross_entropy, stage_metrics
from seqzoo.tasks.train_loss import TrainLossLogging


class Aligned(ReadsSequences, TrainLossLogging, L.LightningModule):
    mapping = "aligned"

    def __init__(
        self,
        backbone,
        num_classes: int | None = None,
        num_targets: int = 1,
        input_size: int | None = None,
        input_vocab_size: int | None = None,
        embedding_size: int = 64,
        causal: bool = False,
        next_step: bool = False,
        dropout: float = 0.0,
        class_names: list[str] | None = None,
        sampling: dict | None = None,
        optimizer=None,
        scheduler=None,
    ):
        super().__init__()
        self.sampling = {"length": 200, "temperature": 0.8, "top_k": None, **(sampling or {})}
        self.embed = InputEmbedding(input_vocab_size, embedding_size, input_size)
        self.backbone = with_sizes(backbone, dict(input_size=self.embed.output_size))
        if (causal or next_step) and not is_causal(self.backbone):
            why = "its targets are the next inputs" if next_step else "task.causal=true asks for streaming"
            knobs = inspect.signature(type(self.backbone)).parameters  # the family's own switch, named
            fix = (
                "set model.causal=true"
                if "causal" in knobs
                else "set model.bidirectional=false"
                if "bidirectional" in knobs
                else "choose a causal family"
            )
            raise SeqzooError(
                f"{type(self.backbone).__name__} is not causal, but this aligned task needs a causal backbone "
                f"({why}): {fix}"
            )
        self.classify, self.next_step, self.class_names = num_classes is not None, next_step, class_names
        self.specials = [i for i, name in enumerate(class_names or []) if name in SPECIALS]  # never sampled
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(self.backbone.output_size, num_classes if self.classify else num_targets)
        self.optimizer, self.scheduler = optimizer, scheduler
        self.metrics = stage_metrics(
            class_metrics(num_classes, IGNORE_INDEX) if self.classify else {"mse": torchmetrics.MeanSquaredError()}
        )

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """x (B, T, C) or token ids (B, T) -> (B, T, classes) or (B, T, targets)"""
        return self.head(self.dropout(run_encoder(self.backbone, self.embed(x), mask)))

    def loss(self, out: torch.Tensor, batch: dict) -> torch.Tensor:
        y = batch[TARGETS]
        if self.classify:
            return scored_cross_entropy(out.flatten(0, 1), y.flatten())
        real = batch[TARGET_MASK]
        errors = (out[real] - y[real].view_as(out[real]).to(out.dtype)).square()
        return errors.sum() / max(errors.numel(), 1)  # the mean, and 0 (not NaN) when no step is real

    def training_step(self, batch: dict, batch_idx: int) -> torch.Tensor:
        loss = self.loss(self(batch[INPUTS], batch[INPUT_MASK]), batch)
        self.log_train_loss(loss, len(batch[TARGETS]))
        return loss

    def evaluate(self, batch: dict, stage: str) -> None:
        out = self(batch[INPUTS], batch[INPUT_MASK])
        loss, n = self.loss(out, batch), len(batch[TARGETS])
        self.log(f"{stage}/loss", loss, prog_bar=stage == "val", batch_size=n, sync_dist=True)
        if self.next_step:  # bits per character (or per token): the language-modelling figure
            self.log(f"{stage}/bpc", loss / math.log(2), prog_bar=stage == "val", batch_size=n, sync_dist=True)
        if self.classify:
            self.metrics[stage].update(out.flatten(0, 1), batch[TARGETS].flatten())
        else:
            real = batch[TARGET_MASK]
            self.metrics[stage].update(out[real], batch[TARGETS][real].view_as(out[real]).to(out.dtype))
        self.log_dict(self.metrics[stage], prog_bar=stage == "val", batch_size=n)

    def validation_step(self, batch: dict, batch_idx: int) -> None:
        self.evaluate(batch, "val")

    def test_step(self, batch: dict, batch_idx: int) -> None:
        self.evaluate(batch, "test")

    @torch.no_grad()
    def continue_sequence(
        self, prompt: torch.Tensor, length: int, temperature: float = 1.0, top_k: int | None = None
    ) -> list[int]:
        """Next-step models write on: prompt (T,) token ids -> ``length`` sampled ids. The whole prefix is
        re-read at each step, which works for every backbone (O(length x T))."""
        ids = prompt.unsqueeze(0)  # (1, T)
        for _ in range(length):
            logits = self(ids)[:, -1] / temperature  # (1, V)
            logits[:, self.specials] = float("-inf")
            ids = torch.cat([ids, torch.multinomial(keep_top_k(logits, top_k).softmax(-1), 1)], dim=1)
        return ids[0, prompt.shape[0] :].tolist()

    def predict_step(self, batch: dict, batch_idx: int) -> list[dict]:
        """Next-step models: the prompt's continuation (sampled, ``sampling`` options). Otherwise one label
        per real step: class names joined by spaces, or the regressed values."""
        lengths = batch[INPUT_MASK].sum(1).tolist()
        if self.next_step and self.classify:
            names = self.class_names or [str(i) for i in range(self.head.out_features)]
            opts = self.sampling
            return [
                {
                    "prediction": "".join(
                        names[i]
                        for i in self.continue_sequence(row[:n], opts["length"], opts["temperature"], opts["top_k"])
                    )
                }
                for row, n in zip(batch[INPUTS], lengths)
            ]
        out = self(batch[INPUTS], batch[INPUT_MASK])
        rows = []
        for o, n in zip(out, lengths):
            if self.classify:
                names = self.class_names or [str(i) for i in range(o.shape[-1])]
                rows.append({"prediction": " ".join(names[i] for i in o[:n].argmax(-1).tolist())})
            else:
                rows.append({"prediction": " ".join(f"{v:.6g}" for v in o[:n].flatten().tolist())})
        return rows

    def configure_optimizers(self):
        return configure_optimizers(self, self.optimizer, self.scheduler)
