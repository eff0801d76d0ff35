"""Every decoder: incremental ``step`` equals the teacher-forced ``forward``; memory padding is ignored."""

import inspect
import itertools

import pytest
import torch

from seqzoo.layers.masking import mask_from_lengths
from seqzoo.models import RNNDecoder, TCNDecoder, TransformerDecoder
from seqzoo.models.interface import Decoder
from seqzoo.models.rnn import CELLS
from tests.conftest import config_names, small_part
from tests.tolerance import assert_within, chain_depth

B, T, C, S, M, K = 3, 6, 5, 4, 7, 3


def build(kind: str, variant):
    if kind == "rnn":
        cell, attention, layers = variant
        hidden = M if attention == "dot" else 8  # dot scores need the memory's size
        return RNNDecoder(C, hidden, layers, cell=cell, attention=attention, memory_size=M if attention else None)
    if kind == "tcn":
        condition, attention = variant
        return TCNDecoder(
            C,
            [8, 8, 8],
            kernel_size=3,
            condition_size=K if condition else None,
            memory_size=M if attention else None,
            attention=attention,
        )
    return TransformerDecoder(C, 16, 4, 2, 32, dropout=0.0, memory_size=M)


CASES = (
    [("rnn", v) for v in itertools.product(CELLS, [None, "dot", "general", "additive"], [1, 2])]
    + [("tcn", v) for v in itertools.product([False, True], [None, "general", "additive"])]
    + [("transformer", None)]
)


def inputs(decoder, kind, variant):
    torch.manual_seed(1)
    x = torch.randn(B, T, C)
    memory, memory_mask = torch.randn(B, S, M), mask_from_lengths(torch.tensor([4, 2, 3]), S)
    kwargs = {"memory": memory, "memory_mask": memory_mask}
    if kind == "tcn" and variant[0]:
        kwargs["condition"] = torch.randn(B, K)
    if kind == "rnn" and variant[1] is None:
        kwargs = {}
    return x, kwargs


@pytest.mark.parametrize("kind,variant", CASES, ids=[f"{k}-{v}" for k, v in CASES])
def test_step_equals_forward(kind, variant):
    decoder = build(kind, variant).eval()
    x, kwargs = inputs(decoder, kind, variant)
    full = decoder(x, **kwargs)
    assert full.shape == (B, T, decoder.output_size)
    state = decoder.init_state(**kwargs, **({"batch_like": x[:, 0]} if kind == "tcn" else {}))
    steps = []
    for t in range(T):
        out, state = decoder.step(x[:, t], state)
        steps.append(out)
    assert_within(
        torch.stack(steps, 1), full, torch.float32, chain_depth(decoder, T), f"{kind} step against forward", both=True
    )


ATTENDING = [(k, v) for k, v in CASES if k == "transformer" or v[1] is not None and v[1] is not False]


@pytest.mark.parametrize("kind,variant", ATTENDING, ids=[f"{k}-{v}" for k, v in ATTENDING])
def test_memory_padding_is_ignored(kind, variant):
    decoder = build(kind, variant).eval()
    x, kwargs = inputs(decoder, kind, variant)
    padded = dict(kwargs)
    padded["memory"] = torch.cat([kwargs["memory"], 50 * torch.randn(B, 3, M)], 1)
    padded["memory_mask"] = torch.cat([kwargs["memory_mask"], torch.zeros(B, 3, dtype=torch.bool)], 1)
    assert_within(
        decoder(x, **padded),
        decoder(x, **kwargs),
        torch.float32,
        chain_depth(decoder, T + S + 3),
        "memory padding",
        both=True,
    )


def test_rnn_decoder_starts_from_a_given_state():
    decoder = RNNDecoder(C, 8, 2, cell="gru", attention=None).eval()
    x, h0 = torch.randn(B, T, C), torch.randn(2, B, 8)
    assert not torch.allclose(decoder(x, hidden=h0), decoder(x))
    state = decoder.init_state(hidden=h0)
    assert_within(
        decoder.step(x[:, 0], state)[0],
        decoder(x, hidden=h0)[:, 0],
        torch.float32,
        chain_depth(decoder, 1),
        "first step",
        both=True,
    )


def check_decoder_contract(decoder: torch.nn.Module) -> None:
    """The Decoder protocol (models.interface), as the encoder contract test checks Encoder: the methods, and one
    ``init_state`` signature for every family (memory, memory_mask, condition; anything more keyword-only)."""
    assert isinstance(decoder, Decoder), (
        "a decoder has output_size, forward, init_state, step and reorder_state (models.interface)"
    )
    params = list(inspect.signature(decoder.init_state).parameters.values())
    assert [p.name for p in params[:3]] == ["memory", "memory_mask", "condition"], (
        f"{type(decoder).__name__}.init_state{params}"
    )
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in params[3:]), (
        "extra init_state arguments are keyword-only"
    )


@pytest.mark.parametrize("name", config_names("decoder"))
@pytest.mark.parametrize("with_memory", [False, True])
def test_every_decoder_config_steps_as_it_runs_forward_and_reorders(name, with_memory):
    """Every decoder family in configs/decoder/, as its config builds it: conditioned on a vector (one-to-many),
    with or without a memory (seq2seq); step equals forward; beam search reorders rows."""
    torch.manual_seed(0)
    decoder = small_part("decoder", name)(input_size=C, memory_size=M, condition_size=K).eval()
    check_decoder_contract(decoder)
    x, condition = torch.randn(B, T, C), torch.randn(B, K)
    kwargs = {"condition": condition}
    if with_memory:
        kwargs.update(memory=torch.randn(B, S, M), memory_mask=mask_from_lengths(torch.tensor([4, 2, 3]), S))
    full = decoder(x, **kwargs)
    other = dict(kwargs, condition=torch.randn(B, K))
    assert not torch.allclose(decoder(x, **other), full), "the condition must reach the output"
    state = decoder.init_state(**kwargs)
    outs = []
    for t in range(T):
        if t == 2:  # reversing the batch mid-way and back must change nothing
            flip = torch.arange(B - 1, -1, -1)
            state = decoder.reorder_state(decoder.reorder_state(state, flip), flip)
        out, state = decoder.step(x[:, t], state)
        outs.append(out)
    depth = chain_depth(decoder, T + S)
    assert_within(
        torch.stack(outs, 1), full, torch.float32, depth, f"{name} step against forward, reordered", both=True
    )
    rows = torch.tensor([2, 0])
    picked = decoder.reorder_state(decoder.init_state(**kwargs), rows)
    assert_within(
        decoder.step(x[rows, 0], picked)[0], full[rows, 0], torch.float32, depth, f"{name}: picked rows", both=True
    )
