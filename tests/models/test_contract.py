"""One contract for every encoder family (timm-style: one parametrized test covers every model), found by
listing configs/model/ and built from its config at a small width: (B, T, C) + mask -> (B, T,
output_size); real steps ignore appended padding; a module that declares itself causal ignores the
future and one that does not uses it; every parameter receives a gradient. Each family also runs in the
variants its constructor offers (the other causal setting, both directions, the reference impl)."""

import inspect

import pytest
import torch

from seqzoo.layers.masking import MaskError, mask_from_lengths
from seqzoo.models.interface import Encoder, is_causal, reach, run_encoder
from tests.conftest import config_names, encoder_names, small_part
from tests.tolerance import assert_within, bound, chain_depth

C = 5


def variants(family: str) -> list[tuple[str, dict]]:
    params = inspect.signature(small_part("model", family).func).parameters
    out = [(family, {})]
    if "causal" in params:
        out.append((f"{family}-causal={not params['causal'].default}", {"causal": not params["causal"].default}))
    if "bidirectional" in params:
        out.append((f"{family}-bidirectional", {"bidirectional": True, "num_layers": 2}))
    if "impl" in params:
        out.append((f"{family}-reference", {"impl": "reference"}))
    return out


CASES = [case for family in encoder_names() for case in variants(family)]


def check_encoder_contract(model: torch.nn.Module) -> None:
    """The contract, for any encoder module taking C input features."""
    assert isinstance(model, Encoder), "an encoder declares width, causal and output_size (models.interface)"
    torch.manual_seed(0)
    model.eval()
    x, mask = torch.randn(3, 9, C), mask_from_lengths(torch.tensor([9, 4, 6]), 9)
    out = run_encoder(model, x, mask)
    assert out.shape == (3, 9, model.output_size) and torch.isfinite(out).all()

    longer = torch.cat([x, 10 * torch.randn(3, 5, C)], 1)
    longer_mask = torch.cat([mask, torch.zeros(3, 5, dtype=torch.bool)], 1)
    depth = chain_depth(model, 14)
    assert_within(
        run_encoder(model, longer, longer_mask)[:, :9][mask],
        out[mask],
        torch.float32,
        depth,
        "real steps with more padding",
        both=True,
    )

    changed = x.clone()
    changed[:, 5:] = torch.randn(3, 4, C)
    past = run_encoder(model, x)[:, :5]
    same_past = (run_encoder(model, changed)[:, :5] - past).abs().max() <= bound(past, torch.float32, depth, both=True)
    assert same_past == is_causal(model), "causal models ignore the future; the others use it"

    model.train()
    run_encoder(model, x, mask).square().sum().backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or p.grad.abs().sum() == 0]
    assert not missing, f"no gradient reaches {missing}"


BAD_MASKS = {  # (B=2, T=4) masks that break the contract, and the words every family answers them with
    "left-padded": (
        torch.tensor([[False, True, True, True], [True, True, True, True]]),
        "mask row 0 is not right-padded",
    ),
    "empty row": (torch.tensor([[True, True, False, False], [False] * 4]), "mask row 1 has no real step"),
    "wrong shape": (
        torch.ones(2, 5, dtype=torch.bool),
        r"mask of shape \(2, 5\) does not match the input's \(B, T\) = \(2, 4\)",
    ),
    "wrong dtype": (torch.ones(2, 4), "mask must be a bool tensor"),
}


@pytest.mark.parametrize("bad", BAD_MASKS)
@pytest.mark.parametrize("family", encoder_names())
def test_every_family_answers_a_bad_mask_with_the_same_message(family, bad):
    mask, words = BAD_MASKS[bad]
    with pytest.raises(MaskError, match=words):
        run_encoder(small_part("model", family)(input_size=C), torch.randn(2, 4, C), mask)


@pytest.mark.parametrize("family", config_names("decoder"))
def test_every_decoder_answers_a_bad_memory_mask_with_the_same_message(family):
    decoder = small_part("decoder", family)(input_size=C, memory_size=6)
    memory, mask = torch.randn(2, 4, 6), torch.tensor([[False, True, True, True], [True] * 4])
    with pytest.raises(MaskError, match="memory_mask row 0 is not right-padded"):
        decoder(torch.randn(2, 3, C), memory=memory, memory_mask=mask)


@pytest.mark.parametrize("family,variant", [(c[0].split("-")[0], c[1]) for c in CASES], ids=[c[0] for c in CASES])
def test_encoder_contract(family, variant):
    torch.manual_seed(0)
    check_encoder_contract(small_part("model", family)(input_size=C, **variant))


@pytest.mark.parametrize("family", config_names("decoder"))
def test_every_decoder_parameter_gets_a_gradient(family):
    torch.manual_seed(0)
    decoder = small_part("decoder", family)(input_size=C, memory_size=6, condition_size=3)
    kwargs = {
        "memory": torch.randn(2, 4, 6),
        "memory_mask": mask_from_lengths(torch.tensor([4, 2]), 4),
        "condition": torch.randn(2, 3),
    }
    decoder(torch.randn(2, 7, C), **kwargs).square().sum().backward()
    missing = [n for n, p in decoder.named_parameters() if p.grad is None or p.grad.abs().sum() == 0]
    assert not missing, f"no gradient reaches {missing}"


REACHES = [c for c in CASES if reach(small_part("model", c[0].split("-")[0])(input_size=C, **c[1])) is not None]


@pytest.mark.filterwarnings("ignore:.*receptive field")
@pytest.mark.parametrize("family,variant", [(c[0].split("-")[0], c[1]) for c in REACHES], ids=[c[0] for c in REACHES])
def test_a_declared_receptive_field_is_what_the_outputs_see(family, variant):
    """Change one input step: the outputs that move span exactly ``receptive_field`` steps (fewer only at the ends).
    In float64: the farthest output's share of a change passes through every layer's edge tap, and in float32 it
    can round away against the rest of its sum (InceptionTime's 235 steps showed 234 on one CPU)."""
    torch.manual_seed(0)
    model = small_part("model", family)(input_size=C, **variant).eval().double()
    field, t, at = reach(model), 3 * reach(model), 3 * reach(model) // 2
    x = torch.randn(8, t, C, dtype=torch.float64)
    changed = x.clone()
    changed[:, at] += 3 * torch.randn(8, C, dtype=torch.float64)
    with torch.no_grad():
        moved = (run_encoder(model, changed) - run_encoder(model, x)).abs().amax((0, 2)) > 0  # (T,)
    steps = moved.nonzero().flatten()
    assert int(steps.max() - steps.min()) + 1 == field, f"{family} declares {field} steps, its outputs show otherwise"
    assert (int(steps.min()) == at) == is_causal(model), "a causal module's first moved output is the changed step"
