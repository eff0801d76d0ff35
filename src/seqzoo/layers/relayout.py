"""Swap time and channels, (B, T, C) <-> (B, C, T), as a copy in memory both ways.

A convolution over time wants (B, C, T); a linear layer or a norm over channels wants (B, T, C). A bare
``transpose`` gives a view, and an elementwise kernel fed one operand in each layout (a view and a
contiguous tensor) walks one of them with a stride of T: on a CPU such a kernel runs 10-20x slower than on
two contiguous operands (a GELU backward at (4, 1024, 128): 12 ms against 0.7 ms), and the stride, so the
penalty, grows with T. Autograd's gradient of a transpose is again a view, so the fix needs the backward
too: here both directions copy once, and every kernel on either side sees one layout.
"""

import torch

from seqzoo.layers.time_loop import exporting

COPY = True  # False: a bare transpose (a view), as before; for scripts/bench_long.py's `@relayout=view`


class _SwapTimeChannels(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x.transpose(1, 2).contiguous()

    @staticmethod
    def backward(ctx, g):
        return g.transpose(1, 2).contiguous()


def swap_time_channels(x: torch.Tensor) -> torch.Tensor:
    """(B, T, C) -> (B, C, T) or back, contiguous, and so is its gradient."""
    if not COPY:
        return x.transpose(1, 2)
    if exporting() or not (x.requires_grad and torch.is_grad_enabled()):  # no backward: a plain copy
        return x.transpose(1, 2).contiguous()
    return _SwapTimeChannels.apply(x)
