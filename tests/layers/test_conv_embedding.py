import pytest
import torch

from seqzoo.layers.conv_embedding import ConvEmbedding
from seqzoo.layers.masking import mask_from_lengths
from tests.tolerance import assert_within, bound


def test_kernel_one_is_a_linear_projection():
    torch.manual_seed(0)
    emb, x = ConvEmbedding(3, 8, kernel_size=1), torch.randn(2, 5, 3)
    linear = torch.nn.functional.linear(x, emb.conv.weight[..., 0], emb.conv.bias)
    assert_within(
        emb(x), linear, torch.float32, 3, "a kernel of one against a linear map", both=True
    )  # inner products of 3


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("kernel", [3, 4, 8])
def test_padding_never_reaches_real_steps_and_causal_ignores_the_future(kernel, causal):
    torch.manual_seed(0)
    emb = ConvEmbedding(2, 4, kernel, causal)
    x, mask = torch.randn(3, 7, 2), mask_from_lengths(torch.tensor([7, 3, 5]), 7)
    out = emb(x, mask)
    assert out.shape == (3, 7, 4)
    junk = torch.cat([x.masked_fill(~mask[..., None], 1e3), 1e3 * torch.ones(3, 4, 2)], 1)
    longer = torch.cat([mask, torch.zeros(3, 4, dtype=torch.bool)], 1)
    depth = 2 * kernel  # one inner product over the window's steps and channels
    assert_within(
        emb(junk, longer)[:, :7][mask], out[mask], torch.float32, depth, "real steps beside junk padding", both=True
    )
    for b, n in enumerate([7, 3, 5]):  # each sequence alone, unpadded
        assert_within(emb(x[b : b + 1, :n])[0], out[b, :n], torch.float32, depth, f"sequence {b} alone", both=True)
    changed = x.clone()
    changed[:, 4:] += 1.0
    past = emb(x)[:, :4]
    assert bool((emb(changed)[:, :4] - past).abs().max() <= bound(past, torch.float32, depth, both=True)) == causal
