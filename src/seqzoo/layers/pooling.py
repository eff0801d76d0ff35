"""Pool a sequence (B, T, D) into one vector (B, D) over real steps only: padding never leaks in."""

import torch
from torch import nn

from seqzoo.layers.masking import lengths_from_mask

POOLINGS = ("last", "mean", "max", "attention")


def default_pooling(causal: bool, reach: int | None) -> str:
    """``last`` where the last step has seen the whole sequence (a causal backbone of unbounded reach: a
    one-directional RNN, causal attention); ``mean`` otherwise. A non-causal encoder's last step is one
    position among many, and a convolution's last step sees only its receptive field."""
    return "last" if causal and reach is None else "mean"


def masked_mean(h: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """h (B, T, D), mask (B, T) -> the mean over real steps (B, D)."""
    if mask is None:
        return h.mean(1)
    m = mask.unsqueeze(-1).to(h.dtype)  # (B, T, 1)
    return (h * m).sum(1) / m.sum(1).clamp_min(1)


class MaskedPooling(nn.Module):
    """``last`` real step, ``mean`` or ``max`` over real steps, or learned ``attention`` weights.

    ``last`` suits causal backbones (the last step has seen everything); ``mean``/``max``/``attention``
    suit bidirectional and non-causal ones.
    """

    def __init__(self, kind: str = "last", dim: int | None = None):
        super().__init__()
        if kind not in POOLINGS:
            raise ValueError(f"unknown pooling {kind!r}; choose one of {', '.join(POOLINGS)}")
        if kind == "attention" and dim is None:
            raise ValueError("attention pooling needs dim, the feature size it scores")
        self.kind = kind
        self.score = nn.Linear(dim, 1) if kind == "attention" else None

    def forward(self, h: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """h (B, T, D), mask (B, T) -> (B, D)"""
        if mask is None:
            mask = torch.ones(h.shape[:2], dtype=torch.bool, device=h.device)
        if self.kind == "last":
            last = lengths_from_mask(mask) - 1  # (B,)
            return h[torch.arange(h.shape[0], device=h.device), last]
        if self.kind == "mean":
            return masked_mean(h, mask)
        if self.kind == "max":
            return h.masked_fill(~mask.unsqueeze(-1), float("-inf")).amax(1)
        scores = self.score(h).squeeze(-1).masked_fill(~mask, float("-inf"))  # (B, T)
        weights = torch.softmax(scores, dim=1).unsqueeze(-1)  # (B, T, 1)
        return (weights * h).sum(1)

    def extra_repr(self) -> str:
        return repr(self.kind)
