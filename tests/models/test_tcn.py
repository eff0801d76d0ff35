import pytest
import torch

from seqzoo.layers.masking import mask_from_lengths
from seqzoo.models.tcn import TCN
from tests.tolerance import assert_within, chain_depth


def paper_parameter_count(c_in: int, channels: list[int], k: int, weight_norm: bool) -> int:
    """Per level: two k-wide convolutions (weights + bias, + one gain per output channel with weight
    normalisation) and a 1x1 skip convolution where the width changes."""
    total, prev = 0, c_in
    for c in channels:
        per_conv_extra = c if weight_norm else 0
        total += (prev * c * k + c + per_conv_extra) + (c * c * k + c + per_conv_extra)
        total += prev * c + c if prev != c else 0
        prev = c
    return total


@pytest.mark.parametrize("weight_norm", [True, False])
def test_parameter_count_of_the_papers_settings(weight_norm):
    """Bai et al. 2018, sequential MNIST: kernel 7, 8 levels of 25 channels, 1 input channel."""
    tcn = TCN(1, [25] * 8, kernel_size=7, weight_norm=weight_norm)
    assert sum(p.numel() for p in tcn.parameters()) == paper_parameter_count(1, [25] * 8, 7, weight_norm)
    # level 0: conv 1->25 (175 weights, 25 biases, 25 gains), conv 25->25, 1x1 skip; levels 1-7: two 25->25 convs
    by_hand = (175 + 25 + 25) + (4375 + 25 + 25) + (25 + 25) + 7 * 2 * (4375 + 25 + 25)
    assert paper_parameter_count(1, [25] * 8, 7, True) == by_hand == 66_650  # the paper's "about 70k"


def test_receptive_field():
    assert TCN(1, [8] * 4, kernel_size=3).receptive_field == 1 + 2 * 2 * (1 + 2 + 4 + 8)
    assert TCN(1, [25] * 8, kernel_size=7).receptive_field == 3061


@pytest.mark.parametrize("causal", [True, False])
def test_causality_and_receptive_field_are_real(causal):
    torch.manual_seed(0)
    tcn = TCN(2, [8, 8, 8], kernel_size=3, causal=causal).eval()
    x = torch.randn(1, 64, 2)
    changed = x.clone()
    changed[:, 40] += 1.0  # disturb one step
    diff = (tcn(changed) - tcn(x)).abs().sum(-1)[0]  # (T,)
    touched = diff.nonzero().flatten()
    if causal:
        assert touched.min() == 40  # nothing before the disturbed step moves
        assert touched.max() - 40 < tcn.receptive_field
    else:
        assert touched.min() < 40 < touched.max()
        assert touched.max() - touched.min() < tcn.receptive_field


@pytest.mark.parametrize("causal", [True, False])
def test_padding_does_not_change_real_steps(causal):
    torch.manual_seed(0)
    tcn = TCN(3, [8, 8], kernel_size=3, causal=causal).eval()
    x, mask = torch.randn(2, 10, 3), mask_from_lengths(torch.tensor([10, 6]), 10)
    alone = tcn(x[1:, :6])
    assert_within(
        tcn(x, mask)[1, :6], alone[0], torch.float32, chain_depth(tcn, 10), "a row padded and alone", both=True
    )


def test_warns_when_sequences_outgrow_the_receptive_field():
    tcn = TCN(1, [4, 4], kernel_size=2)
    with pytest.warns(UserWarning, match="receptive field is 7 steps but sequences have 20"):
        tcn(torch.randn(1, 20, 1))
