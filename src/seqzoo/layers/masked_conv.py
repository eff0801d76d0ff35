"""Conv1d pieces that honour a padding mask, for the convolutional classifiers (FCN, ResNet, InceptionTime).

Three things would let padding leak into real steps, and each is closed here:

- a convolution reads its neighbours: padded steps are zeroed before it (``keep``), as its own zero padding
  would be, so a real step near the end sees what it would see in the unpadded sequence;
- batch normalisation in training averages over (batch, time): ``MaskedBatchNorm1d`` averages over real
  steps only, so the statistics (and so every output) are those of the real steps;
- max pooling would pick a padded value: padded steps are filled with the lowest float first.

``same_padding`` is Keras' ``padding='same'``, which the published models use: (k - 1) // 2 steps on the left and
the rest on the right (even kernels look one step further ahead); ``causal`` puts all k - 1 on the left.
Tensors are (B, C, T) inside; ``keep`` is (B, 1, T), 1.0 at real steps and 0.0 at padding, or None.
"""

import torch
import torch.nn.functional as F
from torch import nn

from seqzoo.layers.relayout import swap_time_channels


def same_padding(kernel_size: int, causal: bool = False) -> tuple[int, int]:
    """(left, right) steps of zero padding that keep the length: Keras' 'same', or all on the left."""
    total = kernel_size - 1
    return (total, 0) if causal else (total // 2, total - total // 2)


def masked(h: torch.Tensor, keep: torch.Tensor | None) -> torch.Tensor:
    """h (B, C, T) with its padded steps set to zero."""
    return h if keep is None else h * keep


class SameConv1d(nn.Conv1d):
    """A Conv1d whose output has the input's length (stride 1); padding is added here, not by the layer."""

    def __init__(self, c_in: int, c_out: int, kernel_size: int, causal: bool = False, bias: bool = True):
        super().__init__(c_in, c_out, kernel_size, bias=bias)
        self.same = same_padding(kernel_size, causal)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, C, T), zero at padded steps -> (B, C_out, T)"""
        return super().forward(F.pad(x, self.same))


class MaskedBatchNorm1d(nn.BatchNorm1d):
    """BatchNorm1d over (batch, time) whose training statistics count real steps only; in evaluation it is the
    running statistics' per-channel affine map, which needs no mask. Without a mask it is nn.BatchNorm1d."""

    def forward(self, x: torch.Tensor, keep: torch.Tensor | None = None) -> torch.Tensor:
        """x (B, C, T), keep (B, 1, T) -> (B, C, T), zero at padded steps"""
        if keep is None or not self.training:
            return masked(super().forward(x), keep)
        n = keep.sum()  # real steps in the batch
        mean = (x * keep).sum((0, 2)) / n  # (C,)
        centred = x - mean[:, None]  # (B, C, T)
        var = (centred.square() * keep).sum((0, 2)) / n  # (C,) biased, as the normalisation uses
        if self.track_running_stats:
            with torch.no_grad():
                self.num_batches_tracked += 1
                rate = 1.0 / float(self.num_batches_tracked) if self.momentum is None else self.momentum
                unbiased = var * n / (n - 1).clamp_min(1)  # the running variance is unbiased, as torch's
                self.running_mean.lerp_(mean, rate)
                self.running_var.lerp_(unbiased, rate)
        out = centred * torch.rsqrt(var + self.eps)[:, None]
        if self.affine:
            out = out * self.weight[:, None] + self.bias[:, None]
        return out * keep


def masked_max_pool(x: torch.Tensor, keep: torch.Tensor | None, size: int = 3, causal: bool = False) -> torch.Tensor:
    """Max over ``size`` neighbouring steps (stride 1, the length kept), never picking a padded step or the
    padding beyond the ends. x (B, C, T) -> (B, C, T), zero at padded steps."""
    low = torch.finfo(x.dtype).min  # not -inf: 0 * -inf is nan where the result is masked
    filled = x if keep is None else x.masked_fill(keep == 0, low)
    windows = F.pad(filled, same_padding(size, causal), value=low).unfold(-1, size, 1)  # (B, C, T, size)
    return masked(windows.amax(-1), keep)  # not F.max_pool1d: torch.export fixes its length to the traced one


class ConvNormAct(nn.Module):
    """Conv1d -> batch norm (real steps) -> ReLU -> dropout: the block every Conv1d classifier is made of.
    ``act=False`` stops after the norm (a residual block's last convolution, added before its ReLU)."""

    def __init__(self, c_in: int, c_out: int, kernel_size: int, causal: bool, dropout: float = 0.0, act: bool = True):
        super().__init__()
        self.conv = SameConv1d(c_in, c_out, kernel_size, causal)
        self.norm = MaskedBatchNorm1d(c_out)
        self.act, self.dropout = act, nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, keep: torch.Tensor | None) -> torch.Tensor:
        """x (B, C, T), zero at padded steps -> (B, C_out, T), zero at padded steps"""
        h = self.norm(self.conv(x), keep)
        return self.dropout(torch.relu(h)) if self.act else h


def run_blocks(blocks: nn.ModuleList, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """A stack of blocks, each ``block(h (B, C, T), keep) -> (B, C', T)``, run on x (B, T, C) with its mask (B, T):
    the one place the layout turns to Conv1d's and back. -> (B, T, D)"""
    keep = None if mask is None else mask.unsqueeze(1).to(x.dtype)  # (B, 1, T)
    h = masked(swap_time_channels(x), keep)  # (B, C, T), padded steps zero whatever the input held
    for block in blocks:
        h = block(h, keep)
    return swap_time_channels(h)  # (B, T, D)
