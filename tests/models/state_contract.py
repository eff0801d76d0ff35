"""The step and padding halves of the contract the state-carrying families (minGRU/minLSTM, S4D, Mamba) keep, written
once: outputs at real steps and the final state equal those of each sequence run alone, padded steps
output zeros, and nothing is NaN, gradients included."""

import torch

from seqzoo.layers.masking import mask_from_lengths
from tests.tolerance import assert_within


def stepped(model, x: torch.Tensor):
    """``model.step`` token by token over x (B, T, C) -> the outputs (B, T, D) and the last state."""
    state, outs = model.start_state(x[:, 0]), []
    for t in range(x.shape[1]):
        out, state = model.step(x[:, t], state)
        outs.append(out)
    return torch.stack(outs, 1), state


def check_padding(model, state_rows, C: int, lengths=(9, 4, 1), width: int = 64) -> None:
    """``state_rows(state, i)``: the tensors of the final state that belong to sequence i. A row alone and in a
    padded batch go through the same operations in other shapes (other kernel blockings): within twice the
    rounding bound of a chain of the longest length plus ``width`` (the widest inner product; the small
    models of these tests stay below 64), per layer."""
    depth = len(getattr(model, "layers", [None])) * (max(lengths) + width)
    T = max(lengths)
    x, mask = torch.randn(len(lengths), T, C, requires_grad=True), mask_from_lengths(torch.tensor(lengths), T)
    out, state = model(x, mask)
    assert (out[~mask] == 0).all()
    for i, n in enumerate(lengths):
        alone, alone_state = model(x[i : i + 1, :n])
        assert_within(
            out[i, :n], alone[0], x.dtype, depth, f"{type(model).__name__}: row {i} padded and alone", both=True
        )
        for got, want in zip(state_rows(state, i), state_rows(alone_state, 0)):
            assert_within(
                got, want, x.dtype, depth, f"{type(model).__name__}: row {i}'s state padded and alone", both=True
            )
    rows = [t for i in range(len(lengths)) for t in state_rows(state, i)]
    (out.square().sum() + sum(t.abs().square().sum() for t in rows)).backward()
    assert torch.isfinite(x.grad).all() and all(torch.isfinite(p.grad).all() for p in model.parameters())
