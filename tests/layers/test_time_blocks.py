"""Causal stacks run long sequences block by block (``layers/time_blocks.py``) with the same numbers as in one
piece: outputs, final state and gradients, with sequences that end in an earlier block than others."""

from unittest.mock import patch

import pytest
import torch

from seqzoo.layers import time_blocks
from seqzoo.layers.masking import mask_from_lengths
from seqzoo.models import MinGRU, MinLSTM
from tests.tolerance import assert_within, chain_depth


def run(net, x, mask, state):
    out, final = net(x, mask, state)
    loss = (out * torch.linspace(-1, 1, out.shape[-1], dtype=out.dtype)).square().sum() + final.sum()
    return out, final, torch.autograd.grad(loss, [x, state, *net.parameters()])


@pytest.mark.parametrize("family", [MinGRU, MinLSTM])
@pytest.mark.parametrize("block", [7, 16, 50])  # a remainder block, blocks that divide T, one block
def test_blocks_equal_one_piece_values_state_and_gradients(family, block):
    torch.manual_seed(0)
    net = family(3, hidden_size=5, num_layers=2).double()
    x = torch.randn(3, 48, 3, dtype=torch.float64, requires_grad=True)  # (B, T, C)
    mask = mask_from_lengths(torch.tensor([48, 5, 30]))  # the second sequence ends in the first block
    state = torch.randn(2, 3, 5, dtype=torch.float64, requires_grad=True)  # (layers, B, H)
    with patch.object(time_blocks, "ELEMENTS", 10**12):
        whole = run(net, x, mask, state)
    with (
        patch.object(time_blocks, "ELEMENTS", block * 3 * net.gates * 5),
        patch.object(time_blocks, "MIN_STEPS", 1),
        patch.object(time_blocks, "in_time_blocks", wraps=time_blocks.in_time_blocks) as blocked,
    ):
        pieces = run(net, x, mask, state)
    assert blocked.call_count == (block < 48)
    if block < 48:
        assert blocked.call_args.args[-1] == block
    depth = chain_depth(net, 48)
    assert_within(pieces[0], whole[0], torch.float64, depth, f"blocks of {block} against one piece", both=True)
    assert pieces[0][1, 5:].abs().max() == 0  # padded steps output zeros
    assert_within(pieces[1], whole[1], torch.float64, depth, f"blocks of {block}: final state", both=True)
    for got, want in zip(pieces[2], whole[2]):  # back through the chain, then summed over B x T
        assert_within(got, want, torch.float64, 2 * depth + 3 * 48, f"blocks of {block}: gradients", both=True)


def test_a_bidirectional_stack_is_never_cut_in_time():
    """Its backward reading needs the future: blocks would change its numbers, so it runs in one piece."""
    torch.manual_seed(0)
    net = MinGRU(3, hidden_size=4, num_layers=1, bidirectional=True).double()
    x = torch.randn(2, 30, 3, dtype=torch.float64)
    with (
        patch.object(time_blocks, "ELEMENTS", 8),
        patch.object(time_blocks, "MIN_STEPS", 1),
        patch.object(time_blocks, "in_time_blocks", wraps=time_blocks.in_time_blocks) as blocked,
    ):
        out, _ = net(x)
    assert blocked.call_count == 0
    ref = MinGRU(3, hidden_size=4, num_layers=1, bidirectional=True, impl="reference").double()
    ref.load_state_dict(net.state_dict())
    assert_within(
        out, ref(x)[0], torch.float64, chain_depth(net, 30), "bidirectional scan against its equations", both=True
    )


def test_block_size_follows_the_batch_and_width_and_stays_on_the_cpu():
    x = torch.zeros(4, 10_000, 1)  # (B, T, C)
    assert time_blocks.steps_per_block(x, 128) == time_blocks.ELEMENTS // (4 * 128)
    assert time_blocks.steps_per_block(torch.zeros(32, 10_000, 1), 128) == time_blocks.ELEMENTS // (32 * 128)
    assert time_blocks.steps_per_block(torch.zeros(4096, 10_000, 1), 1024) == time_blocks.MIN_STEPS  # huge batches
    assert time_blocks.steps_per_block(x[:, :2048], 128) is None  # fits in one block
    assert time_blocks.steps_per_block(torch.zeros(4, 10_000, 1, device="meta"), 128) is None  # not a CPU
