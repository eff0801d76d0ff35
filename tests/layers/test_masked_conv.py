"""The Conv1d pieces of the convolutional classifiers keep padding out: batch statistics over real steps equal
nn.BatchNorm1d's over the real steps alone, max pooling never picks a padded value, and every family built from
them gives real steps the same numbers in training, whatever the padding holds."""

import pytest
import torch
from torch import nn

from seqzoo.layers.masked_conv import MaskedBatchNorm1d, masked_max_pool, same_padding
from seqzoo.layers.masking import mask_from_lengths
from seqzoo.models.interface import run_encoder
from tests.conftest import encoder_names, small_part
from tests.tolerance import assert_within, chain_depth

LENGTHS = torch.tensor([9, 4, 6])


def test_same_padding_is_keras_same_and_causal_puts_it_all_on_the_left():
    assert same_padding(8) == (3, 4) and same_padding(5) == (2, 2) and same_padding(1) == (0, 0)
    assert same_padding(8, causal=True) == (7, 0)


def test_masked_batch_norm_trains_on_real_steps_only():
    torch.manual_seed(0)
    x = torch.randn(3, 4, 9, dtype=torch.float64)  # (B, C, T)
    keep = mask_from_lengths(LENGTHS, 9).unsqueeze(1).double()  # (B, 1, T)
    x = x + 100 * (1 - keep)  # padding far from the real values: any leak shows
    ours, plain = MaskedBatchNorm1d(4).double(), nn.BatchNorm1d(4).double()
    for p, q in zip(ours.parameters(), plain.parameters()):
        p.data.uniform_(0.5, 1.5), q.data.copy_(p.data)
    out = ours(x, keep)
    real = torch.cat([x[b, :, :n] for b, n in enumerate(LENGTHS)], 1).unsqueeze(0)  # (1, C, 19): real steps alone
    want = plain(real)
    assert_within(torch.cat([out[b, :, :n] for b, n in enumerate(LENGTHS)], 1), want[0], torch.float64, 19, "norm")
    assert (out * (1 - keep)).abs().max() == 0, "padded steps stay zero"
    assert_within(ours.running_mean, plain.running_mean, torch.float64, 19, "running mean")
    assert_within(ours.running_var, plain.running_var, torch.float64, 19, "running variance (unbiased)")
    ours.eval(), plain.eval()
    assert_within(ours(x, keep)[0], plain(x)[0], torch.float64, 4, "evaluation: the running statistics' affine map")


@pytest.mark.parametrize("causal", [False, True])
def test_max_pooling_never_picks_padding(causal):
    x = torch.randn(3, 2, 9)
    mask = mask_from_lengths(LENGTHS, 9)
    keep = mask.unsqueeze(1).float()
    pooled = masked_max_pool(x.masked_fill(keep == 0, 1e6), keep, 3, causal)  # huge padding would win any max
    for b, n in enumerate(LENGTHS):
        alone = masked_max_pool(x[b : b + 1, :, :n], None, 3, causal)
        assert torch.equal(pooled[b : b + 1, :, :n], alone)
    assert (pooled * (1 - keep)).abs().max() == 0


def normalised_families() -> list[str]:
    """Families in configs/model/ built with batch normalisation over time (found by building them)."""
    return [
        f
        for f in encoder_names()
        if any(isinstance(m, MaskedBatchNorm1d) for m in small_part("model", f)(input_size=3).modules())
    ]


@pytest.mark.parametrize("family", normalised_families())
def test_training_outputs_do_not_depend_on_what_padding_holds(family):
    """In training, batch statistics pool every row's real steps: padding must not enter them."""
    torch.manual_seed(0)
    model = small_part("model", family)(input_size=3).train()
    x, mask = torch.randn(3, 9, 3), mask_from_lengths(LENGTHS, 9)
    zeros = x * mask.unsqueeze(-1)
    noisy = torch.cat([x + 50 * ~mask.unsqueeze(-1), 50 * torch.randn(3, 4, 3)], 1)  # other values, longer padding
    longer = torch.cat([mask, torch.zeros(3, 4, dtype=torch.bool)], 1)
    want = run_encoder(model, zeros, mask)[mask]
    assert_within(
        run_encoder(model, noisy, longer)[:, :9][mask], want, torch.float32, chain_depth(model, 13), family, both=True
    )
