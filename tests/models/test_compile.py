"""torch.compile on every family: the compiled encoder (padded batch, gradients included) and the compiled
decoder step equal eager. The default suite traces with the ``aot_eager`` backend (dynamo and AOTAutograd,
no code generation: seconds); the ``slow`` suite runs inductor, which generates and builds C++ kernels."""

import pytest
import torch

from seqzoo.layers.masking import mask_from_lengths
from seqzoo.models.interface import run_encoder
from seqzoo.models.rnn import Recurrent
from tests.conftest import config_names, encoder_names, families_of, small_part
from tests.tolerance import assert_within, chain_depth

BACKENDS = ["aot_eager", pytest.param("inductor", marks=pytest.mark.slow)]


@pytest.fixture(autouse=True)
def fresh_dynamo():
    torch._dynamo.reset()
    yield
    torch._dynamo.reset()


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("family", encoder_names())
def test_compiled_encoder_equals_eager_with_gradients(family, backend):
    torch.manual_seed(0)
    enc = small_part("model", family)(input_size=5).eval()
    x = torch.randn(3, 11, 5, requires_grad=True)
    mask = mask_from_lengths(torch.tensor([11, 6, 2]), 11)
    expected = run_encoder(enc, x, mask)
    (grad_expected,) = torch.autograd.grad(expected.square().sum(), x)
    got = run_encoder(torch.compile(enc, backend=backend), x, mask)
    (grad_got,) = torch.autograd.grad(got.square().sum(), x)
    depth = chain_depth(enc, 11)  # inductor fuses and reorders: each within the bound of the exact result
    assert_within(got, expected, torch.float32, depth, f"compiled {family} ({backend}) against eager", both=True)
    assert_within(
        grad_got,
        grad_expected,
        torch.float32,
        2 * depth + 3 * 11,
        f"compiled {family} ({backend}): gradients",
        both=True,
    )


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("family", config_names("decoder"))
def test_compiled_decoder_step_equals_eager(family, backend):
    torch.manual_seed(0)
    dec = small_part("decoder", family)(input_size=5, memory_size=6, condition_size=4).eval()
    memory, memory_mask = torch.randn(2, 7, 6), mask_from_lengths(torch.tensor([7, 3]), 7)
    condition, tokens = torch.randn(2, 4), torch.randn(5, 2, 5)
    step = torch.compile(dec.step, backend=backend)

    def run(fn):
        state, outs = dec.init_state(memory, memory_mask, condition), []
        for t in range(len(tokens)):
            out, state = fn(tokens[t], state)
            outs.append(out)
        return torch.stack(outs)

    with torch.no_grad():
        assert_within(
            run(step),
            run(dec.step),
            torch.float32,
            chain_depth(dec, 5 + 7),
            f"compiled {family} step ({backend})",
            both=True,
        )


@pytest.mark.parametrize("family", families_of(Recurrent))
def test_the_fused_recurrent_kernel_stays_out_of_compiled_graphs(family):
    """As torch keeps nn.RNN/LSTM/GRU out of dynamo's graphs: on an H200 with torch 2.11, tracing the fused
    cuDNN call with fake tensors raised, so the compiled GRU and LSTM did not run at all. Eager runs that
    call; the graphs hold the rest, and the numbers stay the same."""
    graphs = []

    def backend(gm, example_inputs):
        graphs.append({str(node.target) for node in gm.graph.nodes})
        return gm.forward

    torch.manual_seed(0)
    enc = small_part("model", family)(input_size=5).eval()
    x, mask = torch.randn(3, 11, 5), mask_from_lengths(torch.tensor([11, 6, 2]), 11)
    for m in (mask, None):
        assert_within(
            run_encoder(torch.compile(enc, backend=backend), x, m),
            run_encoder(enc, x, m),
            torch.float32,
            chain_depth(enc, 11),
            f"{family} compiled around its fused kernel",
            both=True,
        )
    targets = set().union(*graphs)
    assert graphs and not any(name in t for t in targets for name in ("rnn_tanh", "rnn_relu", "lstm", "gru"))
