"""Padding masks: bool, ``True`` marks a real step; sequences are right-padded.

One ignore index for padded targets lives here so that every loss agrees on it.
"""

import torch

from seqzoo.errors import SeqzooError

IGNORE_INDEX = -100  # what torch's cross-entropy ignores by default


def mask_from_lengths(lengths: torch.Tensor, max_len: int | None = None) -> torch.Tensor:
    """``(B,)`` lengths -> ``(B, T)`` bool mask, True at the first ``length`` steps."""
    max_len = int(lengths.max()) if max_len is None else max_len
    steps = torch.arange(max_len, device=lengths.device)  # (T,)
    return steps[None, :] < lengths[:, None]  # (B, T)


def lengths_from_mask(mask: torch.Tensor) -> torch.Tensor:
    """``(B, T)`` bool mask -> ``(B,)`` number of real steps (int64)."""
    return mask.sum(dim=1, dtype=torch.long)


class MaskError(SeqzooError, ValueError):
    """A mask that breaks the contract; every backbone raises this one, with the same words."""


def check_mask(mask: torch.Tensor, x: torch.Tensor, name: str = "mask") -> None:
    """Fail early, with the fix, on a mask that does not fit ``x`` ``(B, T, ...)``: every family calls this
    first, so a left-padded, empty, misshapen or non-bool mask gets the same message from each (tested).
    Skipped while tracing for export, where the mask is symbolic."""
    if torch.jit.is_tracing() or torch.compiler.is_compiling():
        return
    if mask.dtype != torch.bool:
        raise MaskError(
            f"{name} must be a bool tensor (True = real step), got {mask.dtype}; pass {name}.bool() or lengths via "
            "mask_from_lengths"
        )
    if mask.shape != x.shape[:2]:
        raise MaskError(f"{name} of shape {tuple(mask.shape)} does not match the input's (B, T) = {tuple(x.shape[:2])}")
    empty = (~mask.any(dim=1)).nonzero()
    if len(empty):
        raise MaskError(
            f"{name} row {int(empty[0])} has no real step: every sequence needs at least one; drop empty sequences"
        )
    unsorted = (mask[:, 1:] & ~mask[:, :-1]).any(dim=1).nonzero()
    if len(unsorted):
        raise MaskError(
            f"{name} row {int(unsorted[0])} is not right-padded: real steps (True) must come first, then padding "
            "(False); for left-padded data flip each row's steps, or build the mask with mask_from_lengths"
        )


def check_inputs(module, x: torch.Tensor, mask: torch.Tensor | None) -> None:
    """A backbone's first lines: x must be (B, T, input_size), and a mask must keep the mask contract."""
    if x.dim() != 3 or x.shape[-1] != module.input_size:
        raise ValueError(
            f"{type(module).__name__} expects input (B, T, {module.input_size}), got {tuple(x.shape)}"
            + ("; add a batch dimension with x.unsqueeze(0)" if x.dim() == 2 else "")
        )
    if mask is not None:
        check_mask(mask, x)
