"""What a task does to its inputs before the backbone, and what it says about them to callers (training's
reach check, predict's length check, export), so no caller needs to know how a task reads its input."""

import math

import torch
from torch import nn

from seqzoo.data.vocab import PAD_ID
from seqzoo.models.interface import max_length


class InputEmbedding(nn.Module):
    """Token ids (B, T) -> (B, T, E) when the data has an input vocabulary; features pass through."""

    def __init__(self, input_vocab_size: int | None, embedding_size: int, input_size: int | None):
        super().__init__()
        self.embedding = (
            nn.Embedding(input_vocab_size, embedding_size, padding_idx=PAD_ID) if input_vocab_size else None
        )
        self.output_size = embedding_size if input_vocab_size else input_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.embedding(x) if self.embedding is not None else x


class ReadsSequences:
    """Mixed into every task: how many steps its backbone sees, and the longest input it reads. A task that
    regroups its input (many-to-one's patches) says so by overriding ``steps_per_backbone_step``."""

    steps_per_backbone_step = 1

    def backbone_length(self, length: int) -> int:
        """The steps the backbone sees for an input of ``length`` steps."""
        return math.ceil(length / self.steps_per_backbone_step)

    def longest_input(self) -> int | None:
        """The longest input the task reads (its reader's limit, a Transformer's positions), or None for any."""
        reader = getattr(self, "backbone", None) or getattr(self, "encoder", None)
        limit = max_length(reader) if reader is not None else None
        return None if limit is None else limit * self.steps_per_backbone_step
