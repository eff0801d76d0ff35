"""The stack the newer recurrent families share (LRU, Hawk, Mamba-2, mLSTM): a linear input projection to
``d_model``, residual blocks that each carry a state, a final norm. The families differ only in their blocks.

A block has ``forward(h (B, T, D), keep (B, T, 1) or None, lengths (B,), state or None) -> (h, final state)``
(its state after each sequence's last real step), ``start_state(like (B, C))`` and ``step(h (B, D), state) ->
(h, state)``. Padded steps output zeros; a padded step leaves every state as it was.
"""

import torch
from torch import nn

from seqzoo.layers.masking import check_inputs, lengths_from_mask
from seqzoo.models.interface import Width


class BlockStack(nn.Module):
    width = Width("d_model")
    causal = True

    def __init__(self, input_size: int, d_model: int, blocks: list[nn.Module], norm: nn.Module, impl: str = "scan"):
        """``impl``: the blocks' path, checked once here for every family: "scan" (the fast one) or "reference"."""
        if impl not in ("scan", "reference"):
            raise ValueError(f"impl must be 'scan' or 'reference', got {impl!r}")
        super().__init__()
        self.input_size, self.d_model = input_size, d_model
        self.input_proj = nn.Linear(input_size, d_model)
        self.layers = nn.ModuleList(blocks)
        self.norm = norm

    @property
    def output_size(self) -> int:
        return self.d_model

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None, state: list | None = None):
        """x (B, T, C), mask (B, T), state (one per block) or None -> (B, T, d_model) and the state after each
        sequence's last real step."""
        check_inputs(self, x, mask)
        keep = None if mask is None else mask.unsqueeze(-1).to(x.dtype)  # (B, T, 1)
        lengths = torch.full((x.shape[0],), x.shape[1], device=x.device) if mask is None else lengths_from_mask(mask)
        h, finals = self.input_proj(x), []
        for i, block in enumerate(self.layers):
            h, final = block(h, keep, lengths, None if state is None else state[i])
            finals.append(final)
        out = self.norm(h)
        return (out if keep is None else out * keep), finals

    def start_state(self, like: torch.Tensor) -> list:
        """The state before the first step, for a batch like ``like`` (B, C): each block's zeros."""
        return [block.start_state(like) for block in self.layers]

    def step(self, x: torch.Tensor, state: list) -> tuple[torch.Tensor, list]:
        """x (B, C) -> (B, d_model) and the new state: one token through every block, at a fixed cost."""
        h, new = self.input_proj(x), []
        for block, s in zip(self.layers, state):
            h, s = block.step(h, s)
            new.append(s)
        return self.norm(h), new
