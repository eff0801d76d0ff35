"""Positional encodings added to (B, T, D) inputs; ``offset`` places a decoding step at its position."""

import math

import torch
from torch import nn


def check_length(end: int, max_len: int) -> None:
    if end > max_len:
        raise ValueError(f"sequence reaches position {end} but positions stop at max_len={max_len}; raise max_len")


class SinusoidalPositions(nn.Module):
    """Fixed sines and cosines of geometric wavelengths (Vaswani et al. 2017); a buffer, not a parameter."""

    def __init__(self, d_model: int, max_len: int = 4096):
        super().__init__()
        pos = torch.arange(max_len).unsqueeze(1)  # (T, 1)
        freq = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))  # (D / 2,)
        pe = torch.zeros(max_len, d_model)
        pe[:, 0::2] = torch.sin(pos * freq)
        pe[:, 1::2] = torch.cos(pos * freq[: d_model // 2])
        self.register_buffer("pe", pe, persistent=False)
        self.max_len = max_len

    def forward(self, x: torch.Tensor, offset: int = 0) -> torch.Tensor:
        check_length(offset + x.shape[1], self.max_len)
        return x + self.pe[offset : offset + x.shape[1]].to(x.dtype)


class LearnedPositions(nn.Module):
    """One learned vector per position (as in BERT and GPT-2)."""

    def __init__(self, d_model: int, max_len: int = 1024):
        super().__init__()
        self.embedding = nn.Embedding(max_len, d_model)
        nn.init.normal_(self.embedding.weight, std=0.02)
        self.max_len = max_len

    def forward(self, x: torch.Tensor, offset: int = 0) -> torch.Tensor:
        check_length(offset + x.shape[1], self.max_len)
        return x + self.embedding(torch.arange(offset, offset + x.shape[1], device=x.device))


class NoPositions(nn.Module):
    """For inputs that carry their own order (or a causal model that infers it)."""

    def forward(self, x: torch.Tensor, offset: int = 0) -> torch.Tensor:
        return x


def positional(kind: str | None, d_model: int, max_len: int) -> nn.Module:
    kinds = {"sinusoidal": SinusoidalPositions, "learned": LearnedPositions}
    if kind in (None, "none"):
        return NoPositions()
    if kind not in kinds:
        raise ValueError(f"unknown positional encoding {kind!r}; choose sinusoidal, learned or none")
    return kinds[kind](d_model, max_len)
