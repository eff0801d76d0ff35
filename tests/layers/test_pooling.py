import pytest
import torch

from seqzoo.layers.masking import mask_from_lengths
from seqzoo.layers.pooling import POOLINGS, MaskedPooling
from tests.tolerance import assert_within, chain_depth


@pytest.mark.parametrize("kind", POOLINGS)
def test_pooling_ignores_padding(kind):
    torch.manual_seed(0)
    pool = MaskedPooling(kind, dim=4)
    h, mask = torch.randn(3, 6, 4), mask_from_lengths(torch.tensor([6, 2, 4]), 6)
    junk = h.masked_fill(~mask[..., None], 1e4)  # padded steps hold huge values
    depth = chain_depth(pool, 6)  # a sum (or a softmax) over the steps, and attention pooling's projection
    assert_within(pool(junk, mask), pool(h, mask), torch.float32, depth, f"{kind} pooling beside junk", both=True)
    for b, length in enumerate([6, 2, 4]):  # the same as pooling each sequence alone
        assert_within(
            pool(h[b : b + 1, :length])[0],
            pool(h, mask)[b],
            torch.float32,
            depth,
            f"{kind}: sequence {b} alone",
            both=True,
        )


def test_known_values():
    h = torch.tensor([[[1.0], [3.0], [100.0]]])
    mask = torch.tensor([[True, True, False]])
    assert MaskedPooling("last")(h, mask).item() == 3.0
    assert MaskedPooling("mean")(h, mask).item() == 2.0
    assert MaskedPooling("max")(h, mask).item() == 3.0


def test_unknown_pooling_names_the_choices():
    with pytest.raises(ValueError, match="last, mean, max, attention"):
        MaskedPooling("median")
