"""Metrics of generated sequences, computed on decoded text (never on teacher-forced outputs): exact match,
sequence error rate (1 - exact), token error rate (edit distance over tokens / reference tokens: the
character error rate for character data, the phoneme error rate for phonemes) and, for word-level text,
BLEU (torchmetrics). A data set may rename them for its field (G2P: ``ter`` -> ``per``, ``ser`` -> ``wer``)."""

import torch
import torchmetrics
from torch import nn
from torchmetrics.text import BLEUScore, WordErrorRate

from seqzoo.data.vocab import Vocab
from seqzoo.layers.masking import IGNORE_INDEX


class GenerationMetrics(nn.Module):
    def __init__(self, vocab: Vocab, bleu: bool = False, names: dict[str, str] | None = None):
        super().__init__()
        self.vocab, self.names = vocab, names or {}
        self.exact = torchmetrics.MeanMetric()
        self.ter = WordErrorRate()  # over space-joined tokens = token error rate
        self.bleu = BLEUScore() if bleu else None

    def token_strings(self, ids: torch.Tensor) -> list[list[str]]:
        """(B, L) ids -> tokens up to eos, without specials"""
        out = []
        for row in ids.tolist():
            text = self.vocab.decode([i for i in row if i != IGNORE_INDEX])
            out.append(self.vocab.split(text))
        return out

    def update(self, predicted: torch.Tensor, targets: torch.Tensor) -> None:
        """predicted (B, L) generated ids, targets (B, T) padded with IGNORE_INDEX"""
        pred, ref = self.token_strings(predicted), self.token_strings(targets)
        self.exact.update(torch.tensor([float(p == r) for p, r in zip(pred, ref)]))
        self.ter.update([" ".join(p) for p in pred], [" ".join(r) if r else "<empty>" for r in ref])
        if self.bleu is not None:
            self.bleu.update([" ".join(p) for p in pred], [[" ".join(r)] for r in ref])

    def compute(self) -> dict[str, torch.Tensor]:
        exact = self.exact.compute()
        out = {"exact": exact, "ser": 1 - exact, "ter": self.ter.compute()}
        if self.bleu is not None:
            out["bleu"] = self.bleu.compute()
        return {self.names.get(k, k): v for k, v in out.items()}

    def reset(self) -> None:
        for m in (self.exact, self.ter, self.bleu):
            if m is not None:
                m.reset()
