"""A loop over time that survives export: the readable recurrences (RNN, LSTM, GRU, minGRU, Mamba's scan)
run through ``loop_over_time``, a Python loop when eager; while ``torch.export`` traces (ONNX export) the
same step function becomes torch's ``scan`` operator, which the ONNX exporter writes as one ``Scan`` node,
so the exported graph takes any sequence length instead of unrolling the length it was traced at.
"""

from collections.abc import Callable

import torch


def exporting() -> bool:
    """True while torch.export traces a model: families then take their export-friendly paths (no loop over a
    traced length, no branch on tensor values, no complex numbers). Not under ``torch.compile``: before torch
    2.14 dynamo answered ``is_exporting()`` with True while compiling too (pytorch#176347), which sent compiled
    recurrences down the scan path (and on a GPU, whose cuDNN weights are views of one buffer, into an error),
    so the flag torch.export sets is read directly where it exists."""
    flag = getattr(torch.compiler, "_is_exporting_flag", None)
    return torch.compiler.is_exporting() if flag is None else flag


def loop_over_time(step: Callable, state, inputs: tuple[torch.Tensor, ...], reverse: bool = False):
    """Run ``step(state, x_t) -> (state, y_t)`` over time.

    ``state``: a tensor or tuple of tensors; ``inputs``: tensors (B, T, ...), sliced at each step into the
    tuple ``x_t`` of (B, ...); ``y_t``: a tensor (B, ...). -> the final state and ``y`` stacked (B, T, ...).
    ``reverse`` runs from the last step to the first (outputs stay in time order).
    """
    if exporting():
        from torch._higher_order_ops.scan import scan

        def body(carry, xs):  # scan's body may not return its inputs or one tensor twice: copy
            new, y = step(carry, xs)
            return torch.utils._pytree.tree_map(torch.clone, new), y.clone()

        state = torch.utils._pytree.tree_map(torch.clone, state)  # h and c may start as one tensor of zeros
        final, ys = scan(
            body, state, tuple(x.transpose(0, 1).contiguous() for x in inputs), reverse=reverse
        )  # time-major
        return final, ys.transpose(0, 1)
    steps = range(inputs[0].shape[1])
    ys = [None] * len(steps)
    for t in reversed(steps) if reverse else steps:
        state, ys[t] = step(state, tuple(x[:, t] for x in inputs))
    return state, torch.stack(ys, dim=1)
