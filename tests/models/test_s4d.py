"""S4D: the FFT convolution in float32 equals the recurrence run step by step in float64, at every length and
at extreme step sizes and slow decays; prefix then rest equals one pass; padding changes nothing real; the
parameter count is the docstring's formula; the decoder role refuses two directions."""

import math

import pytest
import torch

from seqzoo.models import S4D, S4DDecoder
from tests.models.state_contract import check_padding, stepped

C, H, N = 3, 8, 8


def built(regime="plain", dtype=torch.float32, **kwargs):
    torch.manual_seed(0)
    model = S4D(C, H, kwargs.pop("num_layers", 1), N, **kwargs).to(dtype).eval()
    with torch.no_grad():
        for layer in model.layers:
            if regime == "extremes":  # step sizes from 1e-4 to 1 across channels
                layer.ssm.log_dt.copy_(torch.linspace(math.log(1e-4), 0.0, H))
            elif regime == "slow decay":  # |dA| = exp(-1e-5 dt): the state forgets over ~1e7 steps
                layer.ssm.log_A_re.fill_(math.log(1e-5))
    return model


@pytest.mark.parametrize("T", [1, 2, 3, 17, 257, 4096])
@pytest.mark.parametrize("regime", ["plain", "extremes", "slow decay"])
def test_the_fft_path_in_float32_equals_the_recurrence_in_float64(T, regime):
    fast, reference = built(regime), built(regime, torch.float64)
    x = torch.randn(2, T, C)
    out, state = fast(x)
    want, want_state = stepped(reference, x.double())
    want_state = torch.stack(want_state)
    # one exception to 1e-5: a kernel that does not decay at all, convolved over 4096 steps, meets float32
    # FFT rounding (~eps log2(n) of the sum's size): 1.5e-5 measured, so 3e-5 there
    tol = 3e-5 if regime == "slow decay" and T == 4096 else 1e-5
    torch.testing.assert_close(out.double(), want, atol=tol, rtol=1e-5)
    torch.testing.assert_close(state.to(want_state.dtype), want_state, atol=1e-4, rtol=1e-5)


def test_prefix_then_rest_from_the_returned_state_equals_one_pass():
    model, x = built(num_layers=2), torch.randn(2, 40, C)
    whole, final = model(x)
    first, mid = model(x[:, :13])
    rest, end = model(x[:, 13:], state=mid)
    torch.testing.assert_close(torch.cat([first, rest], 1), whole, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(end, final, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("bidirectional", [False, True], ids=["causal", "bidirectional"])
def test_padding_changes_nothing_real_and_nothing_is_nan(bidirectional):
    check_padding(built("extremes", num_layers=2, bidirectional=bidirectional), lambda state, i: [state[:, i]], C)


@pytest.mark.parametrize("layers,dirs", [(1, 1), (3, 1), (2, 2)])
def test_parameter_count_is_the_docstring_formula(layers, dirs):
    model = S4D(C, H, layers, N, bidirectional=dirs == 2)
    per_layer = H + H * N + dirs * H * N + H + 2 * H + 2 * H * H + 2 * H
    assert sum(p.numel() for p in model.parameters()) == (C + 1) * H + layers * per_layer + 2 * H


def test_the_decoder_role_refuses_two_directions_with_a_message():
    with pytest.raises(ValueError, match="must be causal.*build it causal for the decoder role"):
        S4DDecoder(C, H, bidirectional=True)
    with pytest.raises(ValueError, match="even number"):
        S4D(C, H, d_state=7)
