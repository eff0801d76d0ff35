"""Positional encodings added to (B, T, D) inputs; ``offset`` places a decoding step at its position: a
number, or a (B,) tensor (a decoding state that stays all tensors, so that it exports)."""

import math

import torch
from torch import nn


def check_length(end: int, max_len: int) -> None:
    if end > max_len:
        raise ValueError(f"sequence reaches position {end} but positions stop at max_len={max_len}; raise max_len")


def position_ids(x: torch.Tensor, offset, max_len: int) -> torch.Tensor:
    """The positions of x's T steps: (T,) from a number, (B, T) from a (B,) tensor of offsets."""
    steps = torch.arange(x.shape[1], device=x.device)
    if not isinstance(offset, torch.Tensor):
        check_length(offset + x.shape[1], max_len)
        return steps + offset
    if not torch.compiler.is_compiling():  # a traced graph cannot branch on the offset's value
        check_length(int(offset.max()) + x.shape[1], max_len)
    return steps + offset[:, None]


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

    def forward(self, x: torch.Tensor, offset=0) -> torch.Tensor:
        return x + self.pe[position_ids(x, offset, self.max_len)].to(x.dtype)


class LearnedPositions(nn.Module):
    """One learned vector per position (as in BERT and GPT-2)."""

    def __init__(self, d_model: int, max_len: int = 1024):
        super().__init__()
        self.embedding = nn.Embedding(max_len, d_model)
        nn.init.normal_(self.embedding.weight, std=0.02)
        self.max_len = max_len

    def forward(self, x: torch.Tensor, offset=0) -> torch.Tensor:
        return x + self.embedding(position_ids(x, offset, self.max_len))


class NoPositions(nn.Module):
    """For inputs that carry their own order (or a causal model that infers it)."""

    def forward(self, x: torch.Tensor, offset=0) -> torch.Tensor:
        return x


def positional(kind: str | None, d_model: int, max_len: int) -> nn.Module:
    kinds = {"sinusoidal": SinusoidalPositions, "learned": LearnedPositions}
    if kind in (None, "none"):
        return NoPositions()
    if kind not in kinds:
        raise ValueError(f"unknown positional encoding {kind!r}; choose sinusoidal, learned or none")
    return kinds[kind](d_model, max_len)
