"""The first-order linear recurrence ``h_t = a_t * h_{t-1} + b_t``, elementwise over channels: the whole
recurrence of minGRU/minLSTM (and of any diagonal linear state-space model) once its gates are computed
from the inputs alone.

Because ``a`` and ``b`` do not depend on ``h``, the loop over time need not be a loop: ``scan`` splits time
into about sqrt(T) chunks of about sqrt(T) steps and

1. runs every chunk at once from a zero state (sqrt(T) steps, each over all chunks together),
2. carries the chunks' end states across chunks (sqrt(T) small steps),
3. adds each chunk's carried-in state times the running product of its ``a`` (one pass).

Work stays O(T) and nothing is divided, so it is exact up to rounding however small ``a`` gets (unlike a
scan through cumulative products, or a log-space scan that needs ``b > 0``); sequences longer than ``BLOCK``
steps are scanned block by block, so that the memory each step touches stops growing with T. Its backward is
the same scan run backwards in time (``LinearScan``): dL/db_t = g_t + a_{t+1} dL/db_{t+1},
dL/da_t = dL/db_t * h_{t-1}, so autograd records three tensors, not one node per step. Complex ``a`` and ``b``
(LRU's rotating decays) scan alike; their gradients take the conjugates of a and h, as torch's convention for
complex autograd asks.
"""

import math

import torch

from seqzoo.layers.time_loop import loop_over_time


def linear_recurrence_loop(a: torch.Tensor, b: torch.Tensor, h0: torch.Tensor | None = None) -> torch.Tensor:
    """The reference: a (B, T, ...), b (B, T, ...), h0 (B, ...) -> h (B, T, ...), one step at a time."""

    def step(h, ab):
        h = ab[0] * h + ab[1]
        return h, h

    return loop_over_time(step, torch.zeros_like(b[:, 0]) if h0 is None else h0, (a, b))[1]


BLOCK = 4096  # steps per block of a long sequence (see ``chunked_scan``); scripts/bench_scan_blocks.py measures it


def chunked_scan(a: torch.Tensor, b: torch.Tensor, h0: torch.Tensor, block: int | None = None) -> torch.Tensor:
    """The same, in about 2 sqrt(T) steps over chunks; no autograd of its own (see ``LinearScan``).

    Longer than ``block`` steps, time is cut into blocks scanned one after the other (each from the last state
    of the one before): a step over the chunks of one long scan touches the whole tensor, which stops fitting
    the CPU's caches at some length, so that each step's cost grows with T; blocks bound what one step touches."""
    block = block or BLOCK
    if a.shape[1] > block:
        out, h = [], h0
        for start in range(0, a.shape[1], block):
            out.append(chunked_scan(a[:, start : start + block], b[:, start : start + block], h, block))
            h = out[-1][:, -1]
        return torch.cat(out, 1)
    B, T, rest = a.shape[0], a.shape[1], a.shape[2:]
    K = max(1, math.isqrt(T - 1) + 1) if T > 1 else 1  # chunk length ~ sqrt(T)
    n = -(-T // K)  # chunks
    if n * K != T:  # pad time with a = 1, b = 0: the state passes through unchanged
        pad = n * K - T
        a = torch.cat([a, a.new_ones(B, pad, *rest)], 1)
        b = torch.cat([b, b.new_zeros(B, pad, *rest)], 1)
    a, b = a.reshape(B, n, K, *rest), b.reshape(B, n, K, *rest)
    h = torch.empty_like(b)  # (B, n, K, ...)
    acc = torch.zeros_like(b[:, :, 0])  # (B, n, ...): every chunk from a zero state
    for k in range(K):
        acc = torch.addcmul(b[:, :, k], a[:, :, k], acc)
        h[:, :, k] = acc
    decay = torch.cumprod(a, dim=2)  # (B, n, K, ...): product of a from the chunk's start to step k
    carry, carried = h0, []
    for c in range(n):  # the state entering each chunk
        carried.append(carry)
        carry = torch.addcmul(h[:, c, -1], decay[:, c, -1], carry)
    h.addcmul_(decay, torch.stack(carried, 1).unsqueeze(2))
    return h.reshape(B, n * K, *rest)[:, :T]


class LinearScan(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a, b, h0):
        h = chunked_scan(a, b, h0)
        ctx.save_for_backward(a, h, h0)
        return h

    @staticmethod
    def backward(ctx, g):
        a, h, h0 = ctx.saved_tensors
        a = a.conj()  # complex numbers (LRU): gradients meet conjugated factors; a no-op on real ones
        a_next = torch.cat([a[:, 1:], torch.zeros_like(a[:, :1])], 1)  # a_{t+1}; nothing after the last step
        gb = chunked_scan(a_next.flip(1), g.flip(1), torch.zeros_like(h0)).flip(1)  # (B, T, ...)
        h_prev = torch.cat([h0.unsqueeze(1), h[:, :-1]], 1)
        return gb * h_prev.conj(), gb, a[:, 0] * gb[:, 0]


def linear_scan(a: torch.Tensor, b: torch.Tensor, h0: torch.Tensor | None = None) -> torch.Tensor:
    """a (B, T, ...), b (B, T, ...), h0 (B, ...) or None (zeros) -> h (B, T, ...)"""
    if a.shape != b.shape:
        raise ValueError(f"a and b must have one shape, got {tuple(a.shape)} and {tuple(b.shape)}")
    h0 = torch.zeros_like(b[:, 0]) if h0 is None else h0.to(b.dtype)
    return LinearScan.apply(a, b, h0)
