"""The lesson, asserted: at torch's default initialisation the gradient from the last step vanishes
through 200 steps for all three recurrent families, and for minGRU/minLSTM (their gates start near 1/2, so
the state halves every step); an LSTM with its forget gate opened (bias 1) keeps it many orders of
magnitude larger than a vanilla RNN's; the state-space families, whose step sizes start log-uniform down
to 0.001 (slow modes), still feel the first step at the last."""

from functools import partial

import pytest
import torch

from seqzoo.data.adding import adding_problem
from seqzoo.diagnostics import gradient_flow
from seqzoo.diagnostics.gradient_flow import hidden_states
from seqzoo.models import LSTM, TCN
from seqzoo.models.rnn import Recurrent
from tests.conftest import families_of, small_part
from tests.tolerance import assert_within, chain_depth

T = 200
# every recurrent family in configs/model/ (the hidden-state flow is defined for them), 64 units
RECURRENT = families_of(Recurrent)


@pytest.fixture(scope="module")
def flows():
    x, _ = adding_problem(8, T, torch.Generator().manual_seed(0))
    out = {}
    makers = {n: partial(small_part("model", n, width=64), input_size=2) for n in RECURRENT}
    makers["lstm_forget_bias"] = lambda: LSTM(2, 64, forget_bias=1.0)
    for name, make in makers.items():
        torch.manual_seed(0)
        out[name] = gradient_flow(make(), x)
    return out


def test_forget_gate_bias_keeps_gradients_alive(flows):
    for key in ("input", "hidden"):
        assert flows["lstm_forget_bias"][key][T // 2] / flows["rnn"][key][T // 2] >= 1e6


@pytest.mark.parametrize("name", RECURRENT)
def test_default_initialisation_vanishes(flows, name):
    flow = flows[name]["input"]
    assert flow[T // 2] / flow[-1] < 1e-15 and flow[0] < flow[T // 2]


@pytest.fixture(scope="module")
def input_flows():
    x, _ = adding_problem(8, T, torch.Generator().manual_seed(0))
    out = {}
    for name in ("mingru", "minlstm", "s4d", "mamba"):
        torch.manual_seed(0)
        out[name] = gradient_flow(small_part("model", name, width=64)(input_size=2), x)["input"]
    return out


@pytest.mark.parametrize("name", ["mingru", "minlstm"])
def test_min_rnns_vanish_at_initialisation_too(input_flows, name):
    flow = input_flows[name]
    assert flow[T // 2] / flow[-1] < 1e-12 and flow[0] / flow[-1] < 1e-25


@pytest.mark.parametrize("name", ["s4d", "mamba"])
def test_state_space_families_feel_the_first_step_at_the_last(input_flows, name):
    flow = input_flows[name]
    assert flow[0] / flow[-1] > 1e-8 and flow[T // 2] / flow[-1] > 1e-8


def test_unrolled_states_are_the_models_own():
    torch.manual_seed(0)
    model = LSTM(3, 8, num_layers=2).double()
    x = torch.randn(2, 5, 3, dtype=torch.float64)
    assert_within(
        torch.stack(hidden_states(model, x), 1),
        model(x)[0],
        torch.float64,
        chain_depth(model, 5),
        "unrolled states",
        both=True,
    )


def test_convolutions_and_attention_report_input_flow_only():
    x = torch.randn(2, 30, 2)
    flow = gradient_flow(TCN(2, [8, 8], kernel_size=3), x)
    assert flow["hidden"] is None and flow["input"].shape == (30,)
    assert flow["input"][: 30 - TCN(2, [8, 8], kernel_size=3).receptive_field].abs().max() == 0  # beyond its reach


def test_forget_bias_sets_only_the_forget_gate():
    lstm = LSTM(3, 4, num_layers=2, forget_bias=1.0)
    assert torch.equal(lstm.bias_ih_l1[4:8], torch.ones(4)) and torch.equal(lstm.bias_hh_l1[4:8], torch.zeros(4))
    assert not torch.equal(lstm.bias_ih_l1[:4], torch.ones(4))
