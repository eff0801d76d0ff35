"""The short causal depthwise convolution in front of a recurrence (Mamba, Mamba-2, Hawk's RG-LRU, mLSTM): each
channel mixes its last ``kernel_size`` inputs. A stream carries those inputs as its state, so ``forward`` can
continue from a state and ``step`` costs the same at any position.

It is an ``nn.Conv1d`` (depthwise, no padding of its own): the state replaces the zero padding on the left, and
its weights keep Conv1d's names (``conv.weight``, ``conv.bias``) in checkpoints.
"""

import torch
from torch import nn

from seqzoo.layers.relayout import swap_time_channels


class CausalConv(nn.Conv1d):
    def __init__(self, channels: int, kernel_size: int):
        super().__init__(channels, channels, kernel_size, groups=channels)

    def start_state(self, like: torch.Tensor) -> torch.Tensor:
        """Zeros: the kernel_size - 1 inputs before the first step, (B, E, K - 1), for a batch like ``like``."""
        return like.new_zeros(like.shape[0], self.in_channels, self.kernel_size[0] - 1)

    def forward(self, x: torch.Tensor, past: torch.Tensor | None, lengths: torch.Tensor):
        """x (B, T, E) (padded steps zero), past (B, E, K - 1) or None, lengths (B,) -> y (B, T, E) and the state
        after each sequence's last real step (its last K - 1 real inputs)."""
        E = x.shape[-1]
        past = self.start_state(x) if past is None else past
        window = torch.cat([past, swap_time_channels(x)], dim=-1)  # (B, E, K - 1 + T); a copy both ways: x may be
        # read elsewhere too (mLSTM), and its gradients meet in one layout
        y = swap_time_channels(super().forward(window))  # (B, T, E), contiguous
        index = lengths.view(-1, 1, 1) + torch.arange(self.kernel_size[0] - 1, device=x.device)  # (B, 1, K - 1)
        return y, window.gather(-1, index.expand(-1, E, -1))

    def step(self, x: torch.Tensor, past: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x (B, E), past (B, E, K - 1) -> y (B, E), the new state."""
        window = torch.cat([past, x.unsqueeze(-1)], dim=-1)  # (B, E, K)
        return (window * self.weight.squeeze(1)).sum(-1) + self.bias, window[:, :, 1:]
