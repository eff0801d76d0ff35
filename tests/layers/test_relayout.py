import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

from seqzoo.layers.masking import mask_from_lengths
from seqzoo.layers.relayout import swap_time_channels
from seqzoo.models.interface import run_encoder
from tests.conftest import encoder_names, small_part


def test_swap_is_a_contiguous_transpose_both_ways():
    x = torch.randn(2, 5, 3, requires_grad=True)
    y = swap_time_channels(x)
    assert y.shape == (2, 3, 5) and y.is_contiguous()
    torch.testing.assert_close(y, x.transpose(1, 2), rtol=0, atol=0)
    g = torch.randn(2, 3, 5)
    y.backward(g)
    assert x.grad.is_contiguous()  # a bare transpose would hand back a strided view of g
    torch.testing.assert_close(x.grad, g.transpose(1, 2), rtol=0, atol=0)


def order(t: torch.Tensor) -> tuple:
    """The dimensions from the outermost in memory to the innermost."""
    return tuple(sorted(range(t.dim()), key=lambda d: -t.stride(d)))


class MixedLayouts(TorchDispatchMode):
    """Records kernels fed same-shaped batch-first tensors laid out in different orders (copies excepted:
    a copy across layouts is how a layout changes)."""

    def __init__(self, batch: int):
        super().__init__()
        self.batch, self.hits = batch, []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        tensors = [a for a in (*args, *(kwargs or {}).values()) if isinstance(a, torch.Tensor) and a.dim() == 3]
        same = [
            t
            for t in tensors
            if t.shape == tensors[0].shape and t.shape[0] == self.batch and min(t.shape) > 1 and 0 not in t.stride()
        ]
        if func is not torch.ops.aten.copy_.default and len({order(t) for t in same}) > 1:
            self.hits.append((str(func), tuple(same[0].shape)))
        return func(*args, **(kwargs or {}))


@pytest.mark.parametrize("family", encoder_names())
def test_no_kernel_mixes_layouts_in_a_training_step(family):
    """Families that convolve or scan over time move between (B, T, C) and (B, C, T): a kernel reading one
    operand through a transpose runs 10-20x slower on a CPU, in the forward pass or in the backward."""
    torch.manual_seed(0)
    model = small_part("model", family, width=16)(input_size=4)
    x, mask = torch.randn(3, 40, 4), mask_from_lengths(torch.tensor([40, 25, 33]), 40)
    with MixedLayouts(batch=3) as mode:
        run_encoder(model, x).square().mean().backward()
        run_encoder(model, x, mask).square().mean().backward()
    assert not mode.hits, mode.hits
