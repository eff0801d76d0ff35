"""One error boundary for config values: every shipped config passes it; a value of the wrong type or out of
range is named with its key and what is expected, before any work, exit 2; fuzzed values never reach a
traceback."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from omegaconf import OmegaConf

from seqzoo.cli import compose_config
from seqzoo.config_checks import check_config
from seqzoo.errors import SeqzooError
from tests.conftest import config_names, run_cli
from tests.test_configs import GROUPS

SHIPPED = [(g, n) for g in GROUPS for n in config_names(g)]


@pytest.mark.parametrize("group,name", SHIPPED, ids=[f"{g}={n}" for g, n in SHIPPED])
def test_every_shipped_config_passes(group, name):
    check_config(compose_config([f"{group}={name}"]))


@pytest.mark.parametrize("name", ["eval", "predict", "export"])
def test_the_other_commands_configs_pass(name):
    check_config(
        compose_config(["ckpt_path=x.ckpt", "input=x.npz"] if name == "predict" else ["ckpt_path=x.ckpt"], name=name)
    )


BAD = {
    "data.batch_size=-1": "data.batch_size=-1: expected a whole number >= 1",
    "task.optimizer.lr=-1": "task.optimizer.lr=-1: expected a number > 0",
    "task.optimizer.weight_decay=-0.1": "task.optimizer.weight_decay=-0.1: expected a number >= 0",
    "model.hidden_size=abc": "model.hidden_size=abc: expected a whole number",
    "model.hidden_size=0": "model.hidden_size=0: expected a whole number >= 1",
    "model.num_layers=2.5": "model.num_layers=2.5: expected a whole number",
    "model.dropout=1.5": "model.dropout=1.5: expected a number in [0, 1)",
    "+trainer.max_steps=0": "trainer.max_steps=0: expected a whole number >= 1 (or -1: no limit)",
    "budget.min_steps=-1": "budget.min_steps=-1: expected a whole number >= 0",
    "budget.min_batch_size=0": "budget.min_batch_size=0: expected a whole number >= 1",
}


@pytest.mark.parametrize("override", BAD)
def test_a_bad_value_is_named_with_its_key_and_what_is_expected(override):
    with pytest.raises(SeqzooError, match="config values that cannot be right") as e:
        check_config(compose_config([override]))
    assert BAD[override] in str(e.value)


def test_an_unknown_decoding_method_and_several_problems_at_once():
    with pytest.raises(SeqzooError) as e:
        check_config(
            compose_config(["task=seq2seq", "data=reverse", "task.decoding.method=viterbi", "data.batch_size=0"])
        )
    assert "task.decoding.method=viterbi: expected one of greedy, beam, sample" in str(e.value)
    assert "data.batch_size=0: expected a whole number >= 1" in str(e.value)


def test_the_commands_exit_2_before_any_work(tmp_path):
    done = run_cli(
        ["-c", "from seqzoo.cli import train_main; train_main()", "+trainer.max_steps=0", "model.hidden_size=abc"],
        tmp_path,
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "trainer.max_steps=0" in done.stderr and "model.hidden_size=abc" in done.stderr
    assert not [*tmp_path.rglob("metrics.json"), *tmp_path.rglob("*.ckpt")]  # no work done: Hydra's own .hydra/ only
    done = run_cli(
        [
            "-c",
            "from seqzoo.cli import predict_main; predict_main()",
            "pretrained=japanese_vowels_lstm",
            "input=x.npz",
            "batch_size=-5",
        ],
        tmp_path,
    )
    assert done.returncode == 2 and "batch_size=-5: expected a whole number >= 1" in done.stderr


def leaves(node, where=""):
    """Every key of the default composed config that holds a number (the keys a user types values for)."""
    for key, value in node.items():
        path = f"{where}.{key}" if where else key
        if isinstance(value, dict):
            yield from leaves(value, path)
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and not key.startswith("_"):
            yield path


# subnormals off: train() flushes them in this process (flush_denormal), and Hypothesis refuses to draw them then
KEYS = sorted(leaves(OmegaConf.to_container(compose_config([]), resolve=False)))
VALUES = st.one_of(
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=False, allow_infinity=False, allow_subnormal=False, width=32),
    st.sampled_from(["abc", "1e400", "", "null", "true", "-1", "0", "[1,2]"]),
)


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck), database=None)
@given(key=st.sampled_from(KEYS), value=VALUES)
def test_fuzzed_values_are_accepted_or_named_never_a_traceback(key, value):
    """Every numeric key of the composed config, given numbers of any size and sign, and words."""
    try:
        cfg = compose_config([f"{key}={value}"])
    except Exception:
        return  # Hydra's own parser refused the override, with its own message
    try:
        check_config(cfg)
    except SeqzooError as e:
        assert key in str(e)


def test_the_fuzz_covers_the_keys_users_set():
    assert {"data.batch_size", "task.optimizer.lr", "model.hidden_size", "budget.min_steps", "seed"} <= set(KEYS)
