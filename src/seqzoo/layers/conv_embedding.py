"""Embed each step of a feature sequence from itself and its neighbours: a Conv1d over time.

A per-step linear projection of a univariate series maps every step onto one line in the model's space (a
rank-one embedding): attention then compares scalar values plus positions and has to discover local shape
(slopes, peaks) on its own. A convolution over ``kernel_size`` steps hands it those shapes, as the
convolutional stems of time-series Transformers do. ``kernel_size=1`` is exactly a linear projection.

Padded steps are zeroed before the convolution, as its own zero padding would be, so real steps never
see padding; ``causal=True`` pads on the left only, so step t sees steps <= t.
"""

import torch
import torch.nn.functional as F
from torch import nn

from seqzoo.layers.relayout import swap_time_channels


class ConvEmbedding(nn.Module):
    def __init__(self, input_size: int, d_model: int, kernel_size: int = 1, causal: bool = False):
        super().__init__()
        if kernel_size < 1:
            raise ValueError(f"kernel_size must be at least 1, got {kernel_size}")
        self.conv = nn.Conv1d(input_size, d_model, kernel_size)
        total = kernel_size - 1
        self.pad = (total, 0) if causal else (total - total // 2, total // 2)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """x (B, T, C), mask (B, T) -> (B, T, D)"""
        if self.conv.kernel_size[0] == 1:  # one step at a time: a plain linear map, no transposes
            return F.linear(x, self.conv.weight[..., 0], self.conv.bias)
        if mask is not None:
            x = x * mask.unsqueeze(-1).to(x.dtype)
        h = F.pad(swap_time_channels(x), self.pad)  # (B, C, pad + T)
        return swap_time_channels(
            self.conv(h)
        )  # (B, T, D) in memory too, as the residual stream that starts here must be
