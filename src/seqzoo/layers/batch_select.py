"""Pick rows of a decoding state, for beam search: tensors, and dicts/lists/tuples of them."""

import torch


def select_batch(state, index: torch.Tensor, dim: int = 0):
    """Index every tensor in ``state`` along its batch dimension ``dim``; other values pass through."""
    if isinstance(state, torch.Tensor):
        return state.index_select(dim, index)
    if isinstance(state, dict):
        return {k: select_batch(v, index, dim) for k, v in state.items()}
    if isinstance(state, (list, tuple)):
        return type(state)(select_batch(v, index, dim) for v in state)
    return state
