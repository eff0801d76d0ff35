"""Property-based tests of the backbone contract, for every family found in configs/model/ and each variant
its constructor offers (causal flip, both directions, reference impl): random batch sizes and lengths (1
included), random right-padding, float32 and float64, with and without a carried state. Properties:

- shape (B, T, output_size) and finite values;
- padding invariance: each row's outputs at its real steps equal those of the row run alone, unpadded;
- causality: a causal module's outputs before step t do not change when inputs from t on do;
- state: where ``forward`` takes a ``state``, a prefix then the rest from the returned state equals one pass.

Bounded for CI: ``CASES`` derandomised examples per family, variant and dtype.
"""

import inspect

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seqzoo.layers.masking import mask_from_lengths
from seqzoo.models.interface import is_causal, run_encoder
from tests.conftest import small_part
from tests.models.test_contract import CASES as VARIANTS
from tests.models.test_contract import C
from tests.tolerance import assert_within, chain_depth

CASES = 25
FUZZ = settings(
    max_examples=CASES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck), database=None
)


@st.composite
def batches(draw):
    b, t = draw(st.integers(1, 4)), draw(st.integers(1, 12))
    lengths = draw(st.lists(st.integers(1, t), min_size=b, max_size=b))
    lengths[draw(st.integers(0, b - 1))] = t  # the batch is as long as its longest row
    return draw(st.integers(0, 2**31 - 1)), lengths, t


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("name,variant", [(c[0].split("-")[0], c[1]) for c in VARIANTS], ids=[c[0] for c in VARIANTS])
def test_the_contract_holds_on_random_batches(name, variant, dtype):
    torch.manual_seed(0)
    model = small_part("model", name)(input_size=C, **variant).to(dtype).eval()
    carries_state = "state" in inspect.signature(model.forward).parameters and not variant.get("bidirectional")
    ran = []

    @FUZZ
    @given(batches())
    def check(case):
        seed, lengths, t = case
        ran.append(case)
        g = torch.Generator().manual_seed(seed)
        x = torch.randn(len(lengths), t, C, generator=g, dtype=dtype)
        mask = mask_from_lengths(torch.tensor(lengths), t)
        with torch.no_grad():
            out = run_encoder(model, x, mask)
            assert out.shape == (len(lengths), t, model.output_size) and out.dtype == dtype
            assert torch.isfinite(out).all()
            for i, n in enumerate(lengths):
                alone = run_encoder(model, x[i : i + 1, :n])
                assert_within(
                    out[i, :n], alone[0], dtype, chain_depth(model, t), f"{name}: row {i} padded and alone", both=True
                )
            if is_causal(model) and t > 1:
                cut = int(torch.randint(1, t, (), generator=g))
                changed = x.clone()
                changed[:, cut:] = torch.randn(len(lengths), t - cut, C, generator=g, dtype=dtype)
                assert_within(
                    run_encoder(model, changed)[:, :cut],
                    run_encoder(model, x)[:, :cut],
                    dtype,
                    chain_depth(model, t),
                    f"{name}: steps before a change",
                    both=True,
                )
            if carries_state and t > 1:
                cut = int(torch.randint(1, t, (), generator=g))
                whole, _ = model(x)
                first, state = model(x[:, :cut])
                rest, _ = model(x[:, cut:], state=state)
                assert_within(
                    torch.cat([first, rest], 1),
                    whole,
                    dtype,
                    chain_depth(model, t),
                    f"{name}: prefix then rest",
                    both=True,
                )

    check()
    assert len(ran) >= CASES
