import pytest
import torch

from seqzoo.layers.masking import mask_from_lengths
from seqzoo.layers.patching import Patches, patch_size


def test_patch_size_brings_a_length_within_the_target():
    assert patch_size(24, 64) == 1 and patch_size(None, 64) == 1 and patch_size(1460, None) == 1
    for length in (65, 150, 251, 1460, 10_000):
        p = patch_size(length, 64)
        assert -(-length // p) <= 64 < -(-length // (p - 1)) if p > 1 else True


@pytest.mark.parametrize("size", [1, 2, 3, 5])
def test_patches_hold_every_value_in_order_and_ignore_padding(size):
    torch.manual_seed(0)
    lengths = torch.tensor([11, 4, 7])
    x, mask = torch.randn(3, 11, 2), mask_from_lengths(lengths, 11)
    out, patch_mask = Patches(size)(x, mask)
    n = -(-11 // size)
    assert out.shape == (3, n, size * 2) and patch_mask.shape == (3, n)
    assert torch.equal(out[0].reshape(-1, 2)[:11], x[0])  # nothing lost, order kept: values moved, not computed
    assert patch_mask.sum(1).tolist() == [-(-int(length) // size) for length in lengths]
    longer = torch.cat([x.masked_fill(~mask[..., None], 99.0), torch.full((3, 6, 2), 99.0)], 1)
    out2, _ = Patches(size)(longer, torch.cat([mask, torch.zeros(3, 6, dtype=torch.bool)], 1))
    assert torch.equal(out2[:, :n][patch_mask], out[patch_mask])  # real patches never see padding
