"""Augmentation of training batches for small sets of numeric series: jitter, scaling, window slicing and
mixup (Le Guennec et al. 2016; Um et al. 2017; Zhang et al. 2018). Only ``training_step`` calls it, so
validation, test and prediction always see the data as it is. Every transform keeps padded steps at zero and
their mask false. Values are in the data's normalised units (a standard deviation of about 1)."""

import torch
from torch import nn

from seqzoo.errors import SeqzooError


class Augment(nn.Module):
    """``jitter``: std of Gaussian noise added to every real value. ``scaling``: std of a Gaussian factor around 1,
    one per series and channel. ``window``: the share of each series' real steps kept, a random slice moved to
    the start (the model reads it as a shorter series). ``mixup``: alpha of Beta(alpha, alpha), the weight of
    each series in its blend with another one of the batch, and of their targets in the loss. 0 (window 1)
    switches a transform off."""

    def __init__(self, jitter: float = 0.0, scaling: float = 0.0, window: float = 1.0, mixup: float = 0.0):
        super().__init__()
        if min(jitter, scaling, mixup) < 0 or not 0 < window <= 1:
            raise SeqzooError(
                f"task.augment needs jitter, scaling, mixup >= 0 and 0 < window <= 1, got jitter={jitter}, "
                f"scaling={scaling}, window={window}, mixup={mixup}"
            )
        self.jitter, self.scaling, self.window, self.mixup = jitter, scaling, window, mixup

    @property
    def active(self) -> bool:
        return bool(self.jitter or self.scaling or self.mixup or self.window < 1)

    def forward(self, x: torch.Tensor, mask: torch.Tensor, y: torch.Tensor):
        """x (B, T, C), mask (B, T), y (B, ...) -> x, mask, y, y_other, weight: the loss is
        ``weight * loss(out, y) + (1 - weight) * loss(out, y_other)`` (weight 1 without mixup)."""
        if self.window < 1:
            x, mask = self.slice(x, mask)
        keep = mask.unsqueeze(-1).to(x.dtype)  # (B, T, 1)
        if self.scaling:
            x = x * (1 + self.scaling * torch.randn(x.shape[0], 1, x.shape[2], device=x.device, dtype=x.dtype))
        if self.jitter:
            x = x + self.jitter * torch.randn_like(x) * keep
        if not self.mixup:
            return x, mask, y, y, 1.0
        weight = float(torch.distributions.Beta(self.mixup, self.mixup).sample())
        other = torch.randperm(x.shape[0], device=x.device)
        mixed = weight * x + (1 - weight) * x[other]  # (B, T, C); padded steps of both are zero
        return mixed, mask | mask[other], y, y[other], weight

    def slice(self, x: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Each row's real steps [s, s + w) with w = ceil(window x length) and s uniform, moved to the start."""
        lengths = mask.sum(1)  # (B,)
        kept = torch.clamp(torch.ceil(self.window * lengths).long(), min=1)
        start = (torch.rand(lengths.shape, device=x.device) * (lengths - kept + 1)).long()  # (B,)
        steps = torch.arange(x.shape[1], device=x.device)  # (T,)
        new_mask = steps[None, :] < kept[:, None]  # (B, T)
        source = (start[:, None] + steps[None, :]).clamp(max=x.shape[1] - 1)  # (B, T)
        sliced = x.gather(1, source.unsqueeze(-1).expand(-1, -1, x.shape[2]))  # (B, T, C)
        return sliced * new_mask.unsqueeze(-1).to(x.dtype), new_mask
