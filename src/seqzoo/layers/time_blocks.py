"""Long causal sequences run block by block in time on a CPU, the state carried from each block to the next.

A recurrent or state-space stack whose forward accepts and returns an exact state (``forward`` on a prefix,
then on the rest from the returned state, equals ``forward`` on the whole: a tested contract of every family)
can run a sequence of any length as consecutive blocks. The numbers are the same; what changes is the size of
every intermediate tensor, which stops growing with B x T. On a CPU that keeps the per-token cost of a long
sequence near that of a short one: tensors of tens of MiB leave the caches, and glibc hands allocations above
32 MiB straight from the kernel (``mmap``), so each one is page-faulted anew at every training step.
``python scripts/bench_long.py --models mingru,mingru@elements=1000000000000 --lengths 16384`` measures it
(the second runs in one piece). A GPU has no such cliff and pays for every extra kernel launch: one piece.
"""

import torch

ELEMENTS = 1 << 20  # numbers in one block's (B, steps, width) tensor: 4 MiB of float32, about a core's L2 cache
MIN_STEPS = 64  # fewer steps per block (huge batches) would cost more in per-block overhead than they save


def steps_per_block(x: torch.Tensor, width: int) -> int | None:
    """Steps per block for x (B, T, C) through a stack whose widest per-step tensor has ``width`` numbers;
    None (one piece) on a GPU or when T fits in one block."""
    steps = max(MIN_STEPS, ELEMENTS // max(1, x.shape[0] * width))
    return steps if x.device.type == "cpu" and x.shape[1] > steps else None


def in_time_blocks(run, x: torch.Tensor, mask: torch.Tensor | None, state, block: int):
    """``run(x_block, mask_block, state, last) -> (y_block, state)`` over consecutive blocks of ``block``
    steps of x (B, T, C), mask (B, T) or None, from ``state``; -> y (B, T, D) and the state after the last
    block. ``last`` tells ``run`` that no block follows (a stack may then skip computing a state nobody reads).
    A block in which a sequence has no real step left carries its state through unchanged, as padding does;
    so ``run`` must not check masks (the caller checks the whole mask once)."""
    xs = x.split(block, dim=1)  # one autograd node for all blocks (slicing would copy a full-size gradient per block)
    masks = [None] * len(xs) if mask is None else mask.split(block, dim=1)
    ys = []
    for i, (xb, mb) in enumerate(zip(xs, masks)):
        y, state = run(xb, mb, state, i == len(xs) - 1)
        ys.append(y)
    return torch.cat(ys, dim=1), state
