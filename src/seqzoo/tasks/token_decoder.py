"""Target-side machinery shared by seq2seq and one-to-many: embed target tokens, run any decoder (RNN,
TCN, Transformer), project to the vocabulary; teacher-forced logits for training, a step function and
the strategies of ``decoding.py`` for generation, and scheduled sampling between the two."""

import math

import torch
from torch import nn

from seqzoo.data.vocab import BOS_ID, EOS_ID, PAD_ID
from seqzoo.layers.masking import IGNORE_INDEX
from seqzoo.sizes import with_sizes
from seqzoo.tasks import decoding

SCHEDULES = ("constant", "linear", "inverse_sigmoid")


def teacher_forcing_ratio(
    schedule: str, step: int, start: float = 1.0, end: float = 0.5, steps: int = 10_000, k: float = 1000.0
) -> float:
    """Probability of feeding the gold token at training step ``step`` (Bengio et al. 2015):
    constant ``start``; linear from ``start`` to ``end`` over ``steps``; inverse sigmoid k / (k + exp(step / k))."""
    if schedule == "constant":
        return start
    if schedule == "linear":
        return max(end, start - (start - end) * step / max(1, steps))
    if schedule == "inverse_sigmoid":
        return max(end, k / (k + math.exp(min(step / k, 700))))
    raise ValueError(f"unknown teacher forcing schedule {schedule!r}; choose one of {', '.join(SCHEDULES)}")


def shift_right(targets: torch.Tensor) -> torch.Tensor:
    """targets (B, T) ending in eos, padded with IGNORE_INDEX -> decoder inputs <bos> y1 .. y_{T-1}."""
    prev = targets[:, :-1].masked_fill(targets[:, :-1] == IGNORE_INDEX, PAD_ID)
    return torch.cat([torch.full_like(targets[:, :1], BOS_ID), prev], dim=1)


class TokenDecoder(nn.Module):
    def __init__(
        self,
        decoder,
        vocab_size: int,
        embedding_size: int,
        memory_size: int | None = None,
        condition_size: int | None = None,
        tie_embeddings: bool = False,
        dropout: float = 0.0,
    ):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_size, padding_idx=PAD_ID)
        self.decoder = with_sizes(
            decoder, dict(input_size=embedding_size, memory_size=memory_size, condition_size=condition_size)
        )
        self.dropout = nn.Dropout(dropout)
        d = self.decoder.output_size
        # tied weights need the output in embedding space: a projection bridges a different decoder width
        self.bridge = nn.Linear(d, embedding_size) if tie_embeddings and d != embedding_size else nn.Identity()
        self.output = nn.Linear(embedding_size if tie_embeddings else d, vocab_size)
        self.register_buffer("never", torch.tensor([PAD_ID, BOS_ID]), persistent=False)
        if tie_embeddings:
            self.output.weight = self.embedding.weight

    def logits(self, h: torch.Tensor) -> torch.Tensor:
        return self.output(self.bridge(self.dropout(h)))

    def generation_log_probs(self, logits: torch.Tensor) -> torch.Tensor:
        """What generation draws from: <pad> and <bos> are never outputs, so they get no probability.
        (Training keeps the plain logits: label smoothing needs every class finite.)"""
        return logits.index_fill(-1, self.never, float("-inf")).log_softmax(-1)

    def forward(self, prev_tokens: torch.Tensor, memory=None, memory_mask=None, condition=None) -> torch.Tensor:
        """Teacher forcing: prev_tokens (B, T) -> logits (B, T, V)"""
        h = self.decoder(self.embedding(prev_tokens), memory=memory, memory_mask=memory_mask, condition=condition)
        return self.logits(h)

    def attention(self, prev_tokens: torch.Tensor, memory=None, memory_mask=None, condition=None):
        """Teacher-forced attention weights (B, T, S) over the memory, or None for a decoder without attention."""
        out = self.decoder(
            self.embedding(prev_tokens),
            memory=memory,
            memory_mask=memory_mask,
            condition=condition,
            return_attention=True,
        )
        return out[1]

    def init_state(self, memory=None, memory_mask=None, condition=None):
        return self.decoder.init_state(memory=memory, memory_mask=memory_mask, condition=condition)

    def step(self, tokens: torch.Tensor, state) -> tuple[torch.Tensor, object]:
        """tokens (B,) -> log-probabilities (B, V) of the next token"""
        h, state = self.decoder.step(self.embedding(tokens), state)
        return self.generation_log_probs(self.logits(h)), state

    def scheduled(
        self, prev_tokens: torch.Tensor, ratio: float, memory=None, memory_mask=None, condition=None
    ) -> torch.Tensor:
        """Scheduled sampling: step by step, feeding the gold token with probability ``ratio`` and the
        model's own previous prediction otherwise. -> logits (B, T, V)"""
        state, logits, fed = self.init_state(memory, memory_mask, condition), [], prev_tokens[:, 0]
        for t in range(prev_tokens.shape[1]):
            h, state = self.decoder.step(self.embedding(fed), state)
            logits.append(self.logits(h))
            if t + 1 < prev_tokens.shape[1]:
                gold = torch.rand(fed.shape[0], device=fed.device) < ratio
                fed = torch.where(gold, prev_tokens[:, t + 1], logits[-1].argmax(-1))
        return torch.stack(logits, dim=1)

    def generate(
        self,
        memory=None,
        memory_mask=None,
        condition=None,
        method: str = "greedy",
        max_length: int = 50,
        beam_size: int = 4,
        length_penalty: float = 0.0,
        temperature: float = 1.0,
        top_k: int | None = None,
    ):
        """-> tokens (B, L) ending in eos, and their log-probabilities (B,)"""
        ref = memory if memory is not None else condition
        state = self.init_state(memory, memory_mask, condition)
        common = dict(batch_size=ref.shape[0], bos=BOS_ID, eos=EOS_ID, max_len=max_length, device=ref.device)
        if method == "greedy":
            return decoding.greedy(self.step, state, **common)
        if method == "beam":
            return decoding.beam_search(
                self.step, self.decoder.reorder_state, state, beam_size=beam_size, alpha=length_penalty, **common
            )
        if method == "sample":
            return decoding.sample(self.step, state, temperature=temperature, top_k=top_k, **common)
        raise ValueError(f"unknown decoding method {method!r}; choose greedy, beam or sample")
