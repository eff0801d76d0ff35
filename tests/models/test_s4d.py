"""S4D: the FFT convolution in float32 equals the recurrence run step by step in float64, at every length and
at extreme step sizes and slow decays; prefix then rest equals one pass; padding changes nothing real; the
parameter count is the docstring's formula; the decoder role refuses two directions."""

import math

import pytest
import torch

from seqzoo.layers import time_blocks
from seqzoo.models import S4D, S4DDecoder
from seqzoo.models.interface import run_encoder
from seqzoo.models.s4d import channel_groups, fft_conv
from tests.models.state_contract import check_padding, stepped
from tests.tolerance import assert_within, fft_depth

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
    # the chain: the input projection (C), the kernel's sum over modes (N), the FFT convolution, the output
    # projection (2H); the final state sums T steps one after another
    assert_within(out, want, torch.float32, fft_depth(T) + C + N + 2 * H, f"S4D's FFT path, {regime}, T={T}")
    assert_within(state, want_state, torch.float32, T + C + N, f"S4D's final state, {regime}, T={T}")


def test_prefix_then_rest_from_the_returned_state_equals_one_pass():
    model, x = built(num_layers=2), torch.randn(2, 40, C)
    whole, final = model(x)
    first, mid = model(x[:, :13])
    rest, end = model(x[:, 13:], state=mid)
    depth = 2 * (40 + C + N + 2 * H)  # two layers: 40 steps, then the projections and the sum over modes
    assert_within(torch.cat([first, rest], 1), whole, torch.float32, depth, "S4D prefix then rest", both=True)
    assert_within(end, final, torch.float32, depth, "S4D prefix then rest: state", both=True)


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


def test_run_encoder_skips_the_final_state_and_changes_no_output():
    model, x = built(num_layers=2, bidirectional=True), torch.randn(2, 20, C)
    mask = torch.arange(20) < torch.tensor([[20], [13]])
    out, state = model(x, mask)
    skipped, none = model(x, mask, need_state=False)
    assert state.shape == (2, 2, H, N // 2, 2) and none is None  # real and imaginary parts
    assert torch.equal(skipped, out) and torch.equal(
        run_encoder(model, x, mask), out
    )  # the same operations: bit for bit
    causal = built(num_layers=2)
    _, mid = causal(x[:, :7])  # from a given state, too
    assert torch.equal(causal(x[:, 7:], state=mid, need_state=False)[0], causal(x[:, 7:], state=mid)[0])


@pytest.mark.parametrize("elements", [1 << 20, 128, 1], ids=["one-group", "groups-of-2", "groups-of-1"])
def test_the_fft_convolution_and_its_written_backward_equal_the_direct_sum(elements, monkeypatch):
    """In one piece, and channel group by channel group (B x group x 32 points <= elements: 2 of 5, then 1)."""
    monkeypatch.setattr(time_blocks, "ELEMENTS", elements)
    g = torch.Generator().manual_seed(0)
    u = torch.randn(2, 5, 9, generator=g, dtype=torch.float64, requires_grad=True)
    k = torch.randn(5, 9, generator=g, dtype=torch.float64, requires_grad=True)
    assert len(channel_groups(u, 32)) == {1 << 20: 1, 128: 3, 1: 5}[elements]
    direct = torch.stack(
        [(k[:, : t + 1].flip(-1) * u[..., : t + 1]).sum(-1) for t in range(9)], -1
    )  # sum_j k_j u_(t-j)
    assert_within(
        fft_conv(u, k), direct, torch.float64, fft_depth(9) + 9, "FFT convolution against the direct sum", both=True
    )
    assert torch.autograd.gradcheck(fft_conv, (u, k))


@pytest.mark.parametrize("T", [1, 17, 4096])
def test_the_export_path_real_kernel_and_direct_convolution_equal_the_complex_fft_path(T):
    """What runs under torch.export (ONNX has no complex numbers and no FFT of a traced length)."""
    from seqzoo.models.s4d import direct_conv, fft_conv

    model = built("extremes", torch.float64, bidirectional=True)
    ssm = model.layers[0].ssm
    K, _ = ssm.kernel(T)
    assert_within(
        ssm.real_kernel(T), K, torch.float64, N, f"real kernel against the complex one, T={T}", both=True
    )  # a sum over modes
    u = torch.randn(2, H, min(T, 300), dtype=torch.float64)
    n = u.shape[-1]
    assert_within(
        direct_conv(u, K[0, :, :n]),
        fft_conv(u, K[0, :, :n]),
        torch.float64,
        fft_depth(n) + n,
        f"direct against FFT, T={T}",
        both=True,
    )


def test_the_export_path_real_step_equals_the_complex_step():
    ssm = built("extremes", torch.float64).layers[0].ssm
    u, state = torch.randn(3, H, dtype=torch.float64), torch.randn(3, H, N // 2, 2, dtype=torch.float64)
    for got, want in zip(ssm.real_step(u, state), ssm.step(u, state)):
        assert_within(got, want, torch.float64, N, "real step against the complex step", both=True)
