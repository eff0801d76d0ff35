"""minGRU / minLSTM: the scan equals the equations step by step, step() equals forward, padding changes
nothing real, the parameter count is the docstring's formula, and the decoder role refuses two directions."""

import pytest
import torch

from seqzoo.models import MinGRU, MinGRUDecoder, MinLSTM, MinLSTMDecoder
from tests.models.state_contract import check_padding, stepped
from tests.tolerance import assert_within

C, H = 3, 6
FAMILIES = [MinGRU, MinLSTM]


def built(family, dtype=torch.float32, regime="plain", **kwargs):
    torch.manual_seed(0)
    model = family(C, H, **kwargs).to(dtype).eval()
    with torch.no_grad():
        for directions in model.layers:
            for project in directions:
                if regime == "extremes":  # gate pre-activations of +-50: sigmoids at 0 and 1 (candidates unscaled)
                    project.weight[: (model.gates - 1) * H].mul_(40)
                elif regime == "slow decay":  # update / input gates nearly shut: the state decays over ~1e4 steps
                    project.bias[:H].fill_(-9.0 if family is MinGRU else 9.0)
                    if family is MinLSTM:
                        project.bias[H : 2 * H].fill_(-9.0)
    return model


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.__name__)
@pytest.mark.parametrize("T", [1, 2, 3, 17, 257, 4096])
@pytest.mark.parametrize("regime", ["plain", "extremes", "slow decay"])
def test_the_scan_in_float32_equals_the_equations_in_float64(family, T, regime):
    fast, reference = built(family, regime=regime), built(family, torch.float64, regime=regime, impl="reference")
    x = torch.randn(2, T, C)
    out, state = fast(x)
    want, want_state = reference(x.double())
    # the log-space scan sums T terms; the projection is an inner product of C
    what = f"{family.__name__}'s scan, {regime}, T={T}"
    assert_within(out, want, torch.float32, T + C, what)
    assert_within(state, want_state, torch.float32, T + C, what + ": state")


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.__name__)
def test_step_by_step_and_prefix_then_rest_equal_one_forward(family):
    model, x = built(family, num_layers=2), torch.randn(2, 20, C)
    whole, final = model(x)
    steps, state = stepped(model, x)
    depth, name = 2 * (20 + max(C, H)), family.__name__  # two layers of 20 steps after an inner product each
    assert_within(steps, whole, torch.float32, depth, f"{name}: step against forward", both=True)
    assert_within(torch.stack(state), final, torch.float32, depth, f"{name}: step's state against forward's", both=True)
    first, mid = model(x[:, :7])
    rest, end = model(x[:, 7:], state=mid)
    assert_within(torch.cat([first, rest], 1), whole, torch.float32, depth, f"{name}: prefix then rest", both=True)
    assert_within(end, final, torch.float32, depth, f"{name}: prefix then rest, state", both=True)


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.__name__)
@pytest.mark.parametrize("bidirectional", [False, True], ids=["causal", "bidirectional"])
def test_padding_changes_nothing_real_and_nothing_is_nan(family, bidirectional):
    model = built(family, regime="extremes", num_layers=2, bidirectional=bidirectional)
    check_padding(model, lambda state, i: [state[:, i]], C)


@pytest.mark.parametrize("family,gates", [(MinGRU, 2), (MinLSTM, 3)], ids=["MinGRU", "MinLSTM"])
@pytest.mark.parametrize("layers,dirs", [(1, 1), (3, 1), (2, 2)])
def test_parameter_count_is_the_docstring_formula(family, gates, layers, dirs):
    model = family(C, H, num_layers=layers, bidirectional=dirs == 2)
    inputs = [C] + [dirs * H] * (layers - 1)
    assert sum(p.numel() for p in model.parameters()) == sum(dirs * (i + 1) * gates * H for i in inputs)


@pytest.mark.parametrize("decoder", [MinGRUDecoder, MinLSTMDecoder], ids=lambda d: d.__name__)
def test_the_decoder_role_refuses_two_directions_with_a_message(decoder):
    with pytest.raises(ValueError, match="must be causal.*build it causal for the decoder role"):
        decoder(C, H, bidirectional=True)
    with pytest.raises(ValueError, match="reads the future"):
        MinGRU(C, H, bidirectional=True).step(torch.randn(2, C), [torch.zeros(2, H)] * 2)
