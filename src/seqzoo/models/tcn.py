"""Temporal convolutional network (Bai, Kolter & Koltun 2018, "An Empirical Evaluation of Generic
Convolutional and Recurrent Networks for Sequence Modeling").

Level i is a residual block of two dilated Conv1d (dilation 2^i), each followed by ReLU and dropout, with
a 1x1 convolution on the skip path when the width changes. ``causal=True`` pads on the left only, so the
output at step t sees inputs up to t; ``causal=False`` pads both sides and sees as far ahead as behind.

Batch first at the boundary, (B, T, C); the transpose to Conv1d's (B, C, T) happens here and nowhere else.
With a mask, padded steps are zeroed before every convolution, as the convolution's own zero padding
would be, so real steps never see padding: the same numbers as the unpadded sequence.

``TCNDecoder``, the decoder role: a causal TCN conditioned on a vector (concatenated to every input step) and/or
attending to an encoder memory after the convolution stack (``StreamDecoder``); ``step`` keeps each
convolution's recent inputs in a buffer, so generating one token costs O(levels), not a re-run of the prefix.
"""

import warnings

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import weight_norm as apply_weight_norm

from seqzoo.layers.masking import check_inputs
from seqzoo.layers.relayout import swap_time_channels
from seqzoo.models.interface import Width
from seqzoo.models.stream_decoder import StreamDecoder


def receptive_field(kernel_size: int, levels: int) -> int:
    """Steps one output sees: two convolutions of (k - 1) * 2^i extra steps per level, plus itself."""
    return 1 + 2 * (kernel_size - 1) * (2**levels - 1)


class CausalConv1d(nn.Module):
    """Dilated Conv1d that pads ``(k - 1) * dilation`` steps on the left (causal) or split over both sides."""

    def __init__(
        self, c_in: int, c_out: int, kernel_size: int, dilation: int = 1, causal: bool = True, weight_norm: bool = True
    ):
        super().__init__()
        # torch's default initialisation. Bai et al. write N(0, 0.01) into these weights, but their weight-norm
        # hook recomputes the weight from g and v before the first forward, so their runs started from the
        # default too; a true N(0, 0.01) start leaves 8-level TCNs stuck on the adding problem (measured).
        conv = nn.Conv1d(c_in, c_out, kernel_size, dilation=dilation)
        self.conv = apply_weight_norm(conv) if weight_norm else conv
        total = (kernel_size - 1) * dilation
        self.pad = (total, 0) if causal else (total - total // 2, total // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, C, T) -> (B, C_out, T)"""
        return self.conv(F.pad(x, self.pad))

    def step(self, x: torch.Tensor, buffer: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One causal step: x (B, C) and the last (k - 1) * dilation inputs (B, C, P) -> (B, C_out), new buffer."""
        window = torch.cat([buffer, x.unsqueeze(-1)], dim=-1)  # (B, C, P + 1): exactly one output position
        return self.conv(window).squeeze(-1), window[:, :, 1:]


class TemporalBlock(nn.Module):
    def __init__(
        self, c_in: int, c_out: int, kernel_size: int, dilation: int, dropout: float, causal: bool, weight_norm: bool
    ):
        super().__init__()
        self.conv1 = CausalConv1d(c_in, c_out, kernel_size, dilation, causal, weight_norm)
        self.conv2 = CausalConv1d(c_out, c_out, kernel_size, dilation, causal, weight_norm)
        self.dropout = nn.Dropout(dropout)
        self.skip = nn.Conv1d(c_in, c_out, 1) if c_in != c_out else nn.Identity()
        if isinstance(self.skip, nn.Conv1d):
            nn.init.normal_(self.skip.weight, 0.0, 0.01)

    def forward(self, x: torch.Tensor, keep: torch.Tensor | None) -> torch.Tensor:
        """x (B, C, T), keep (B, 1, T) float with 0 at padded steps, or None -> (B, C_out, T)"""
        h = self.dropout(torch.relu(self.conv1(x)))
        h = h if keep is None else h * keep
        h = self.dropout(torch.relu(self.conv2(h)))
        out = torch.relu(h + self.skip(x))
        return out if keep is None else out * keep

    def step(self, x: torch.Tensor, buffers: tuple) -> tuple[torch.Tensor, tuple]:
        """x (B, C) -> (B, C_out); ``buffers`` hold each convolution's recent inputs."""
        h, b1 = self.conv1.step(x, buffers[0])
        h, b2 = self.conv2.step(self.dropout(torch.relu(h)), buffers[1])
        out = torch.relu(self.dropout(torch.relu(h)) + self.skip(x.unsqueeze(-1)).squeeze(-1))
        return out, (b1, b2)


class TCN(nn.Module):
    """``num_channels`` lists each level's width; the last is ``output_size``."""

    width = Width("num_channels")

    def __init__(
        self,
        input_size: int,
        num_channels: list[int] = (64,) * 4,
        kernel_size: int = 3,
        dropout: float = 0.0,
        causal: bool = True,
        weight_norm: bool = True,
    ):
        super().__init__()
        num_channels = list(num_channels)
        if not num_channels or kernel_size < 1:
            raise ValueError(f"need at least one level and kernel_size >= 1, got {num_channels} and {kernel_size}")
        self.input_size, self.causal = input_size, causal
        widths = [input_size, *num_channels]
        self.blocks = nn.ModuleList(
            TemporalBlock(widths[i], widths[i + 1], kernel_size, 2**i, dropout, causal, weight_norm)
            for i in range(len(num_channels))
        )
        self.kernel_size, self.warned = kernel_size, False

    @property
    def receptive_field(self) -> int:
        return receptive_field(self.kernel_size, len(self.blocks))

    @property
    def output_size(self) -> int:
        return self.blocks[-1].conv2.conv.out_channels

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """x (B, T, C), mask (B, T) -> (B, T, num_channels[-1])"""
        check_inputs(self, x, mask)
        if x.shape[1] > self.receptive_field and not self.warned:  # once per model, not once per length
            self.warned = True
            warnings.warn(
                f"TCN receptive field is {self.receptive_field} steps but sequences have {x.shape[1]}: early steps are "
                "invisible to late outputs; add levels or widen kernel_size if the task needs them"
            )
        keep = None if mask is None else mask.unsqueeze(1).to(x.dtype)  # (B, 1, T)
        h = swap_time_channels(x)  # (B, C, T), in memory too (and so are the gradients)
        h = h if keep is None else h * keep
        for block in self.blocks:
            h = block(h, keep)
        return swap_time_channels(h)  # (B, T, D)

    def start_state(self, x: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Zero input buffers for ``step``, shaped for a batch like x (B, C): what left padding would hold."""
        if not self.causal:
            raise ValueError("only a causal TCN can run step by step; build it with causal=True")
        return [
            (
                x.new_zeros(x.shape[0], b.conv1.conv.in_channels, b.conv1.pad[0]),
                x.new_zeros(x.shape[0], b.conv2.conv.in_channels, b.conv2.pad[0]),
            )
            for b in self.blocks
        ]

    def step(self, x: torch.Tensor, buffers: list) -> tuple[torch.Tensor, list]:
        """x (B, C) one step -> (B, D), the same as ``forward`` at that position, at O(levels) cost."""
        new = []
        for block, bufs in zip(self.blocks, buffers):
            x, bufs = block.step(x, bufs)
            new.append(bufs)
        return x, new


class TCNDecoder(StreamDecoder):
    width = Width("num_channels")

    def __init__(
        self,
        input_size: int,
        num_channels: list[int] = (128,) * 4,
        kernel_size: int = 3,
        dropout: float = 0.0,
        weight_norm: bool = True,
        condition_size: int | None = None,
        memory_size: int | None = None,
        attention: str | None = "general",
    ):
        tcn = TCN(
            input_size + (condition_size or 0), num_channels, kernel_size, dropout, causal=True, weight_norm=weight_norm
        )
        super().__init__(tcn, condition_size, memory_size, attention)
