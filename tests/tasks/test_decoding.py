"""Generation, for every decoder family: beam 1 is greedy, beam never scores below greedy, and the scores
of incremental decoding are the teacher-forced log-probabilities of the same tokens."""

import pytest
import torch

from seqzoo.data.vocab import EOS_ID
from seqzoo.layers.masking import IGNORE_INDEX, mask_from_lengths
from seqzoo.tasks.decoding import length_penalty, lengths_to_eos
from seqzoo.tasks.token_decoder import TokenDecoder, shift_right, teacher_forcing_ratio
from tests.conftest import config_names, small_part
from tests.tolerance import assert_within, bound, chain_depth

V, E, M, B = 12, 16, 10, 5
DECODERS = {name: small_part("decoder", name, width=16) for name in config_names("decoder")}  # every family's decoder


def setup(name: str):
    torch.manual_seed(3)
    model = TokenDecoder(DECODERS[name], V, E, memory_size=M, condition_size=M).eval()
    with torch.no_grad():  # sharpen the output a little so that hypotheses differ
        model.output.weight.mul_(3)
    memory = torch.randn(B, 7, M)
    mask = mask_from_lengths(torch.tensor([7, 3, 5, 7, 1]), 7)
    return model, {"memory": memory, "memory_mask": mask, "condition": torch.randn(B, M)}


def teacher_forced_score(model, tokens, ctx) -> torch.Tensor:
    """Sum of log p(token) under a full teacher-forced pass, up to and including the first eos."""
    targets = tokens.clone()
    after_eos = torch.arange(tokens.shape[1])[None] >= lengths_to_eos(tokens, EOS_ID)[:, None]
    targets[after_eos] = IGNORE_INDEX
    logp = model.generation_log_probs(model(shift_right(targets), **ctx))
    picked = logp.gather(-1, targets.clamp_min(0).unsqueeze(-1)).squeeze(-1)
    return picked.masked_fill(targets == IGNORE_INDEX, 0).sum(1)


@pytest.mark.parametrize("name", DECODERS)
def test_beam_of_one_is_greedy(name):
    model, ctx = setup(name)
    g_tokens, g_scores = model.generate(**ctx, method="greedy", max_length=9)
    b_tokens, b_scores = model.generate(**ctx, method="beam", beam_size=1, max_length=9)
    assert torch.equal(b_tokens, g_tokens)
    assert_within(
        b_scores, g_scores, torch.float32, chain_depth(model, 9 + M), f"{name}: a beam of one against greedy", both=True
    )


@pytest.mark.parametrize("name", DECODERS)
@pytest.mark.parametrize("alpha", [0.0, 0.6])
def test_beam_never_scores_below_greedy(name, alpha):
    model, ctx = setup(name)
    g_tokens, g_scores = model.generate(**ctx, method="greedy", max_length=9)
    b_tokens, b_scores = model.generate(**ctx, method="beam", beam_size=4, max_length=9, length_penalty=alpha)
    norm = lambda t, s: s / length_penalty(lengths_to_eos(t, EOS_ID), alpha)
    slack = bound(g_scores, torch.float32, chain_depth(model, 9 + M), both=True)  # the same path, scored twice
    assert (norm(b_tokens, b_scores) >= norm(g_tokens, g_scores) - slack).all()


@pytest.mark.parametrize("name", DECODERS)
@pytest.mark.parametrize("method", ["greedy", "beam", "sample"])
def test_incremental_scores_equal_teacher_forced_scores(name, method):
    model, ctx = setup(name)
    torch.manual_seed(0)
    tokens, scores = model.generate(**ctx, method=method, beam_size=3, max_length=9)
    with torch.no_grad():
        assert_within(
            scores,
            teacher_forced_score(model, tokens, ctx),
            torch.float32,
            chain_depth(model, 9 + M),
            f"{name} {method}: incremental against teacher-forced scores",
            both=True,
        )


def test_sampling_options():
    model, ctx = setup("lstm")
    greedy, _ = model.generate(**ctx, method="greedy", max_length=9)
    top1, _ = model.generate(**ctx, method="sample", top_k=1, max_length=9)
    assert torch.equal(top1, greedy)  # only the best token left to draw
    draws = []
    for _ in range(2):
        torch.manual_seed(7)
        draws.append(model.generate(**ctx, method="sample", temperature=2.0, max_length=9)[0])
    assert torch.equal(draws[0], draws[1])
    with pytest.raises(ValueError, match="temperature must be > 0"):
        model.generate(**ctx, method="sample", temperature=0.0)
    with pytest.raises(ValueError, match="choose greedy, beam or sample"):
        model.generate(**ctx, method="viterbi")


def test_every_output_ends_in_eos_and_stays_there():
    model, ctx = setup("transformer")
    tokens, _ = model.generate(**ctx, method="beam", beam_size=3, max_length=30)
    for row in tokens.tolist():
        if EOS_ID in row:
            assert set(row[row.index(EOS_ID) :]) == {EOS_ID}


def test_teacher_forcing_schedules():
    assert teacher_forcing_ratio("constant", 500, start=0.9) == 0.9
    assert teacher_forcing_ratio("linear", 0, start=1.0, end=0.5, steps=100) == 1.0
    assert teacher_forcing_ratio("linear", 50, start=1.0, end=0.5, steps=100) == pytest.approx(0.75)
    assert teacher_forcing_ratio("linear", 1000, start=1.0, end=0.5, steps=100) == 0.5
    ratios = [teacher_forcing_ratio("inverse_sigmoid", s, end=0.0, k=100) for s in (0, 500, 1000, 2000)]
    assert ratios == sorted(ratios, reverse=True) and ratios[0] > 0.99 and ratios[-1] < 0.01
    with pytest.raises(ValueError, match="constant, linear, inverse_sigmoid"):
        teacher_forcing_ratio("cosine", 0)


def test_scheduled_sampling_with_ratio_one_is_teacher_forcing():
    model, ctx = setup("gru")
    prev = torch.randint(4, V, (B, 6))
    assert_within(
        model.scheduled(prev, 1.0, **ctx),
        model(prev, **ctx),
        torch.float32,
        chain_depth(model, 6 + M),
        "ratio one",
        both=True,
    )
