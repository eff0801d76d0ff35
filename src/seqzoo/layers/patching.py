"""Cut a long sequence into patches of consecutive steps, each patch one step for the backbone.

A raw signal sampled finely (a 1,460-step power trace, a 251-step outline) is long in steps and short in
information per step. Recurrent backbones must carry gradients across every step and attention costs T^2;
both train far better on ~64 steps of p values each (the patches of PatchTST, Nie et al. 2023). Nothing is
lost: a patch holds all its p x C values. Patches start at step 0, so right padding only ever fills the
tail of the last real patch (zeroed) and whole padded patches: real patches do not change with padding.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn


def patch_size(length: int | None, target_length: int | None) -> int:
    """Steps per patch so that ``length`` steps become at most ``target_length`` patches (1: no patching)."""
    if not length or not target_length or length <= target_length:
        return 1
    return math.ceil(length / target_length)


class Patches(nn.Module):
    def __init__(self, size: int = 1):
        super().__init__()
        self.size = size

    def output_size(self, input_size: int) -> int:
        return input_size * self.size

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """x (B, T, C), mask (B, T) -> (B, ceil(T / p), p * C) and the patch mask (B, ceil(T / p))."""
        if self.size == 1:
            return x, mask
        B, T, C = x.shape
        pad = -T % self.size
        if mask is not None:
            x = x * mask.unsqueeze(-1).to(x.dtype)  # padded steps inside the last real patch read as 0
            mask = F.pad(mask, (0, pad))[:, :: self.size]  # a patch is real when its first step is
        x = F.pad(x, (0, 0, 0, pad)).reshape(B, (T + pad) // self.size, self.size * C)
        return x, mask

    def extra_repr(self) -> str:
        return f"size={self.size}"
