"""The interface every backbone keeps, read in one place: its output sequence and whether it is causal.
Torch only, so tasks and diagnostics alike can use it."""

import torch
from torch import nn


def run_encoder(encoder: nn.Module, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Any backbone -> (B, T, D); recurrent ones also return their final state, not needed here."""
    out = encoder(x, mask)
    return out[0] if isinstance(out, tuple) else out


def is_causal(module: nn.Module) -> bool:
    """Whether a backbone's step t sees only steps <= t: the causal flag, or a one-directional RNN."""
    if hasattr(module, "causal"):
        return bool(module.causal)
    return hasattr(module, "bidirectional") and not module.bidirectional


def reach(module: nn.Module) -> int | None:
    """How many past steps one output can see: a TCN's receptive field; None for unbounded (RNNs, attention)."""
    return getattr(module, "receptive_field", None)
