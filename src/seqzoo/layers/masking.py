"""Padding masks: bool, ``True`` marks a real step; sequences are right-padded.

One ignore index for padded targets lives here so that every loss agrees on it.
"""

import torch

IGNORE_INDEX = -100  # what torch's cross-entropy ignores by default


def mask_from_lengths(lengths: torch.Tensor, max_len: int | None = None) -> torch.Tensor:
    """``(B,)`` lengths -> ``(B, T)`` bool mask, True at the first ``length`` steps."""
    max_len = int(lengths.max()) if max_len is None else max_len
    steps = torch.arange(max_len, device=lengths.device)  # (T,)
    return steps[None, :] < lengths[:, None]  # (B, T)


def lengths_from_mask(mask: torch.Tensor) -> torch.Tensor:
    """``(B, T)`` bool mask -> ``(B,)`` number of real steps (int64)."""
    return mask.sum(dim=1, dtype=torch.long)


def check_mask(mask: torch.Tensor, x: torch.Tensor) -> None:
    """Fail early, with the fix, on a mask that does not fit ``x`` ``(B, T, ...)``."""
    if mask.dtype != torch.bool:
        raise TypeError(f"mask must be a bool tensor (True = real step), got {mask.dtype}")
    if mask.shape != x.shape[:2]:
        raise ValueError(f"mask of shape {tuple(mask.shape)} does not match input (B, T) = {tuple(x.shape[:2])}")
    if not bool(mask[:, 0].all()):
        raise ValueError("every sequence needs at least one real step: mask[:, 0] must be True")
    if bool((mask[:, 1:] & ~mask[:, :-1]).any()):
        raise ValueError("mask must be right-padded: True steps first, then False steps, in every row")
