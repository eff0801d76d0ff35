"""A linear map that is block-diagonal over channels: ``blocks`` dense maps side by side, each reading and writing
its own width / blocks channels. Hawk's RG-LRU gates (one block per head) and xLSTM's q, k, v projections
(blocks of 4 channels) use it: most of a dense map's cost, at a fraction of it.

``copies`` maps are made from one input at once (the two gates of a head; a query and a key): one batched
product instead of several. Blocks are laid out first for the product and back after it, as copies both ways
(``swap_time_channels``): no kernel, forward or backward, mixes layouts.
"""

import math

import torch
from torch import nn

from seqzoo.layers.relayout import swap_time_channels


class BlockDiagonal(nn.Module):
    def __init__(self, width: int, blocks: int, copies: int = 1, bias: bool = True):
        super().__init__()
        if width % blocks:
            raise ValueError(f"a width of {width} channels does not divide into {blocks} blocks")
        self.blocks, self.copies, w = blocks, copies, width // blocks
        self.weight = nn.Parameter(torch.randn(blocks, w, copies * w) / math.sqrt(w))
        self.bias = nn.Parameter(torch.zeros(blocks, copies * w)) if bias else None

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """x (..., width) -> ``copies`` tensors (..., width)"""
        blocks = swap_time_channels(x.reshape(1, -1, self.blocks, self.weight.shape[1]))  # (1, blocks, N, w)
        k = swap_time_channels(torch.bmm(blocks[0], self.weight).unsqueeze(0))[0]  # (N, blocks, c w)
        if self.bias is not None:
            k = k + self.bias
        return tuple(part.reshape(*x.shape) for part in k.chunk(self.copies, dim=-1))
