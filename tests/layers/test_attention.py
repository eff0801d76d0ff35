import pytest
import torch

from seqzoo.layers.attention import MultiHeadAttention
from seqzoo.layers.masking import mask_from_lengths
from tests.tolerance import assert_within, chain_depth


@pytest.mark.parametrize("causal,cross", [(False, False), (True, False), (False, True)])
def test_explicit_weights_path_equals_sdpa(causal, cross):
    torch.manual_seed(0)
    attn = MultiHeadAttention(16, 4).eval()
    x, memory = torch.randn(2, 5, 16), torch.randn(2, 7, 16) if cross else None
    key_mask = mask_from_lengths(torch.tensor([7, 3]) if cross else torch.tensor([5, 3]), 7 if cross else 5)
    fast = attn(x, memory, key_mask=key_mask, causal=causal)
    slow, weights = attn(x, memory, key_mask=key_mask, causal=causal, need_weights=True)
    assert_within(slow, fast, torch.float32, chain_depth(attn, 7), "explicit weights against sdpa", both=True)
    assert_within(weights.sum(-1), torch.ones(2, 5), torch.float32, 7, "softmax rows summed")
    assert weights[1][:, ~key_mask[1]].abs().max() == 0
    if causal:
        assert torch.triu(weights, diagonal=1).abs().max() == 0


def test_heads_must_divide_the_width():
    with pytest.raises(ValueError, match="divisible"):
        MultiHeadAttention(10, 4)
