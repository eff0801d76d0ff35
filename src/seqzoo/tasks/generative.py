"""What seq2seq and one-to-many share: a source is encoded into (memory, memory_mask, condition), a
``TokenDecoder`` produces the target. Training is teacher-forced (or scheduled sampling), with label
smoothing; validation and test report the teacher-forced loss and metrics of *generated* output."""

import lightning as L
import torch

from seqzoo.data.batch import TARGETS
from seqzoo.data.vocab import EOS_ID, Vocab
from seqzoo.layers.masking import IGNORE_INDEX
from seqzoo.tasks.inputs import ReadsSequences
from seqzoo.tasks.optim import configure_optimizers
from seqzoo.tasks.scoring import scored_cross_entropy
from seqzoo.tasks.sequence_metrics import GenerationMetrics
from seqzoo.tasks.token_decoder import TokenDecoder, shift_right, teacher_forcing_ratio
from seqzoo.tasks.train_loss import TrainLossLogging

DEFAULT_DECODING = {
    "method": "greedy",
    "beam_size": 4,
    "length_penalty": 0.0,
    "temperature": 1.0,
    "top_k": None,
    "max_length": None,
}


class GenerativeTask(ReadsSequences, TrainLossLogging, L.LightningModule):
    """Subclasses define ``encode(batch) -> (memory | None, memory_mask | None, condition | None)``."""

    def __init__(
        self,
        *,
        target_tokens: list[str],
        target_separator: str,
        max_target_length: int,
        embedding_size: int,
        label_smoothing: float = 0.0,
        teacher_forcing: dict | None = None,
        decoding: dict | None = None,
        bleu: bool | None = None,
        optimizer=None,
        scheduler=None,
        metric_names: dict[str, str] | None = None,
    ):
        super().__init__()
        self.vocab = Vocab(target_tokens, target_separator)
        self.max_target_length, self.embedding_size, self.label_smoothing = (
            max_target_length,
            embedding_size,
            label_smoothing,
        )
        self.teacher_forcing = {"schedule": "constant", "start": 1.0, **(teacher_forcing or {})}
        self.decoding = {**DEFAULT_DECODING, **(decoding or {})}
        self.optimizer, self.scheduler = optimizer, scheduler
        self.metrics = torch.nn.ModuleDict(
            {s: GenerationMetrics(self.vocab, bool(bleu), metric_names) for s in ("val", "test")}
        )

    def make_target_decoder(self, decoder, memory_size, condition_size, tie_embeddings, dropout) -> TokenDecoder:
        return TokenDecoder(
            decoder, len(self.vocab), self.embedding_size, memory_size, condition_size, tie_embeddings, dropout
        )

    def encode(self, batch: dict):
        raise NotImplementedError

    def loss(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return scored_cross_entropy(logits.flatten(0, 1), targets.flatten(), self.label_smoothing)

    def training_step(self, batch: dict, batch_idx: int) -> torch.Tensor:
        memory, memory_mask, condition = self.encode(batch)
        prev = shift_right(batch[TARGETS])
        ratio = teacher_forcing_ratio(step=self.global_step, **self.teacher_forcing)
        if ratio < 1.0:
            logits = self.target_decoder.scheduled(prev, ratio, memory, memory_mask, condition)
        else:
            logits = self.target_decoder(prev, memory, memory_mask, condition)
        loss = self.loss(logits, batch[TARGETS])
        n = len(batch[TARGETS])
        self.log_train_loss(loss, n)
        if self.teacher_forcing["schedule"] != "constant":
            self.log("train/teacher_forcing", ratio, on_step=True, on_epoch=False, batch_size=n)
        return loss

    def generate(self, batch: dict, encoded: tuple | None = None, **overrides):
        """-> tokens (B, L) and log-probabilities (B,); ``encoded`` reuses an ``encode(batch)`` already done."""
        memory, memory_mask, condition = encoded or self.encode(batch)
        options = {**self.decoding, **overrides}
        options["max_length"] = options["max_length"] or self.max_target_length + 5
        return self.target_decoder.generate(memory, memory_mask, condition, **options)

    def evaluate(self, batch: dict, stage: str) -> None:
        encoded = self.encode(batch)  # once, for the teacher-forced loss and for generation
        targets, n = batch[TARGETS], len(batch[TARGETS])
        loss = self.loss(self.target_decoder(shift_right(targets), *encoded), targets)
        self.log(f"{stage}/loss", loss, prog_bar=stage == "val", batch_size=n, sync_dist=True)
        tokens, _ = self.generate(batch, encoded)
        self.metrics[stage].update(tokens, targets)

    def log_generation_metrics(self, stage: str) -> None:
        values = self.metrics[stage].compute()
        self.log_dict({f"{stage}/{k}": v for k, v in values.items()}, prog_bar=stage == "val")
        self.metrics[stage].reset()

    def validation_step(self, batch: dict, batch_idx: int) -> None:
        self.evaluate(batch, "val")

    def on_validation_epoch_end(self) -> None:
        self.log_generation_metrics("val")

    def test_step(self, batch: dict, batch_idx: int) -> None:
        self.evaluate(batch, "test")

    def on_test_epoch_end(self) -> None:
        self.log_generation_metrics("test")

    @torch.no_grad()
    def attention_maps(self, batch: dict):
        """-> weights (B, T, S) of the decoder over the memory while it writes the targets, or None."""
        memory, memory_mask, condition = self.encode(batch)
        return self.target_decoder.attention(shift_right(batch[TARGETS]), memory, memory_mask, condition)

    def target_labels(self, targets: torch.Tensor) -> list[list[str]]:
        """Readable target tokens of each row, eos included, for plot axes."""
        return [[self.vocab.tokens[i] for i in row if i != IGNORE_INDEX] for row in targets.tolist()]

    def predict_step(self, batch: dict, batch_idx: int) -> list[dict]:
        """``complete`` is False where the output reached the length limit before <eos> (the decoding's
        max_length: the longest training target + 5, unless set): the answer is cut there, not finished."""
        tokens, scores = self.generate(batch)
        return [
            {"prediction": self.vocab.decode(row), "log_prob": round(s, 4), "complete": EOS_ID in row}
            for row, s in zip(tokens.tolist(), scores.tolist())
        ]

    def configure_optimizers(self):
        return configure_optimizers(self, self.optimizer, self.scheduler)
