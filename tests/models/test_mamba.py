"""Mamba: the chunked parallel scan in float32 equals the recurrence step by step in float64, at every length
and at extreme step sizes; step() and prefix-then-rest equal one forward; padding changes nothing real and
nothing is NaN; the parameter count is the docstring's formula."""

import math
from unittest.mock import patch

import pytest
import torch

from seqzoo.layers import selective_scan as scan_module
from seqzoo.models import Mamba
from tests.models.state_contract import check_padding, stepped
from tests.tolerance import assert_within

C = 3


def built(regime="plain", dtype=torch.float32, impl="scan", **kwargs):
    torch.manual_seed(0)
    model = (
        Mamba(C, kwargs.pop("d_model", 8), kwargs.pop("num_layers", 1), d_state=4, impl=impl, chunk=64, **kwargs)
        .to(dtype)
        .eval()
    )
    with torch.no_grad():
        for block in model.layers:
            if regime == "extremes":  # step sizes from ~1e-4 (softplus(-9)) to ~9 across channels
                block.dt_proj.bias.copy_(torch.linspace(-9.0, 9.0, block.dt_proj.bias.numel()))
            elif regime == "slow decay":  # |A| ~ 1e-4: the state forgets over ~10^5 steps
                block.A_log.fill_(math.log(1e-4))
    return model


def depth(T: int, layers: int = 1, d_model: int = 8) -> int:
    """Per layer: the scan's T steps, then the widest inner products (in_proj, x_proj, out_proj: 2 d_model
    each), the conv window (4) and the sum over the state (4)."""
    return layers * (T + 6 * d_model + 8)


def equal_states(a, b, T, what, layers=1, both=False):
    for (conv_a, ssm_a), (conv_b, ssm_b) in zip(a, b):
        assert_within(conv_a, conv_b, torch.float32, depth(T, layers), f"{what}: conv state", both)
        assert_within(ssm_a, ssm_b, torch.float32, depth(T, layers), f"{what}: ssm state", both)


@pytest.mark.parametrize("T", [1, 2, 3, 17, 257, 4096])
@pytest.mark.parametrize("regime", ["plain", "extremes", "slow decay"])
def test_the_scan_in_float32_equals_the_recurrence_in_float64(T, regime):
    fast, reference = built(regime), built(regime, torch.float64, impl="reference")
    x = torch.randn(2, T, C)
    out, state = fast(x)
    want, want_state = reference(x.double())
    assert_within(out, want, torch.float32, depth(T), f"Mamba's scan, {regime}, T={T}")
    equal_states(state, want_state, T, f"Mamba's scan, {regime}, T={T}")


def test_step_by_step_and_prefix_then_rest_equal_one_forward():
    model, x = built(num_layers=2), torch.randn(2, 30, C)
    whole, final = model(x)
    steps, state = stepped(model, x)
    assert_within(steps, whole, torch.float32, depth(30, 2), "Mamba's step against forward", both=True)
    equal_states(state, final, 30, "Mamba's step against forward", 2, both=True)
    first, mid = model(x[:, :11])
    rest, end = model(x[:, 11:], state=mid)
    assert_within(
        torch.cat([first, rest], 1), whole, torch.float32, depth(30, 2), "Mamba's prefix then rest", both=True
    )
    equal_states(end, final, 30, "Mamba's prefix then rest", 2, both=True)


@pytest.mark.parametrize("parallel", [None, False, True])
def test_parallel_chooses_the_scan_inside_chunks_and_changes_no_number(parallel):
    """``parallel`` reaches every block's scan (None: by device, the loop on a CPU); values and gradients are
    those of the step-by-step loop."""
    x, real, outputs = torch.randn(2, 70, C), scan_module.chunk_states, {}
    for choice in (False, parallel):
        model, seen = built(num_layers=2, parallel=choice), []
        with patch.object(scan_module, "chunk_states", lambda *a, seen=seen: seen.append(a[-1]) or real(*a)):
            out, state = model(x)
            out.square().sum().backward()
        outputs[choice] = (out, state[-1][1], [p.grad for p in model.parameters()])
        assert seen and set(seen) == {bool(choice)}  # forward and backward, both blocks
    for got, want in zip(outputs[parallel][:2], outputs[False][:2]):
        assert_within(got, want, torch.float32, depth(70, 2), f"Mamba parallel={parallel} against the loop", both=True)
    for got, want in zip(outputs[parallel][2], outputs[False][2]):  # backward: the chain once more, summed over B x T
        assert_within(
            got, want, torch.float32, 2 * depth(70, 2) + 2 * 70, f"Mamba parallel={parallel}: gradients", both=True
        )


def test_padding_changes_nothing_real_and_nothing_is_nan():
    check_padding(built("extremes", num_layers=2), lambda state, i: [t[i] for pair in state for t in pair], C)


@pytest.mark.parametrize("d_model,layers,d_state,d_conv,expand", [(8, 1, 4, 4, 2), (32, 3, 16, 3, 1), (20, 2, 8, 4, 3)])
def test_parameter_count_is_the_docstring_formula(d_model, layers, d_state, d_conv, expand):
    model = Mamba(C, d_model, layers, d_state, d_conv, expand)
    D, E, N, R, K = d_model, expand * d_model, d_state, math.ceil(d_model / 16), d_conv
    block = 2 * D * E + E * K + E + E * (R + 2 * N) + R * E + E + E * N + E + E * D + D
    assert sum(p.numel() for p in model.parameters()) == (C + 1) * D + layers * block + D
