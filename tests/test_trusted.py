"""Loading a checkpoint never calls what the checkpoint names: crafted checkpoints (plain data only, so they
pass the weights_only loader) whose saved config names a foreign callable are refused before it is imported."""

import copy
from pathlib import Path

import pytest
import torch

from seqzoo.errors import SeqzooError
from seqzoo.train import evaluate, train
from seqzoo.trusted import check_trusted, is_building_block
from tests.conftest import ROOT, make_cfg, run_cli

CANARY = "tests.test_trusted.touch"


def touch(path: str = "", **ignored):
    """What a crafted checkpoint would like seqzoo to call: it writes a file, so a call is visible."""
    Path(path).write_text("called")


@pytest.fixture(scope="module")
def real_checkpoint(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    train(make_cfg(out, ["debug=limit", "trainer.max_epochs=1", "logger=csv", "model.hidden_size=8"]))
    return torch.load(out / "checkpoints" / "last.ckpt", weights_only=True)


def craft(ckpt: dict, where: str, value, path: Path) -> Path:
    """``ckpt`` with ``value`` put at the dotted key ``where`` of its saved config."""
    ckpt = copy.deepcopy(ckpt)
    *parents, last = where.split(".")
    node = ckpt["seqzoo"]["config"]
    for key in parents:
        node = node.setdefault(key, {})
    node[last] = value
    torch.save(ckpt, path)
    return path


@pytest.mark.parametrize(
    "where,form",
    [
        ("data._target_", "plain"),
        ("model._target_", "plain"),
        ("task._target_", "plain"),
        ("decoder", "node"),
        ("task.optimizer", "partial"),
        ("model.extra.inner", "node"),
        ("data.transforms", "list"),
    ],
)
def test_a_foreign_target_anywhere_that_is_built_is_refused_before_it_is_called(real_checkpoint, tmp_path, where, form):
    canary = tmp_path / "canary"
    node = {"_target_": CANARY, "path": str(canary)}
    value = {"plain": CANARY, "node": node, "partial": {**node, "_partial_": True}, "list": [1, node]}[form]
    ckpt = real_checkpoint
    if form == "plain":  # the constructor's own arguments become the canary's: give it the path
        ckpt = copy.deepcopy(ckpt)
        group = where.split(".")[0]
        ckpt["seqzoo"]["config"][group] = {"path": str(canary)}
    crafted = craft(ckpt, where, value, tmp_path / "crafted.ckpt")
    with pytest.raises(SeqzooError, match=f"does not build from a file: .*{CANARY}") as e:
        evaluate(make_cfg(tmp_path / "eval", [f"ckpt_path={crafted}"], name="eval"))
    assert where.split(".")[0] in str(e.value) and "trusted_targets=" in str(e.value)
    assert not canary.exists()


def test_an_interpolation_in_a_saved_config_is_refused(real_checkpoint, tmp_path):
    crafted = craft(real_checkpoint, "model.hidden_size", "${oc.env:HOME}", tmp_path / "crafted.ckpt")
    with pytest.raises(SeqzooError, match=r"model.hidden_size: \$\{oc.env:HOME\}"):
        evaluate(make_cfg(tmp_path / "eval", [f"ckpt_path={crafted}"], name="eval"))


def test_the_command_line_refuses_it_in_one_message_with_status_2(real_checkpoint, tmp_path):
    canary = tmp_path / "canary"
    crafted = craft(
        real_checkpoint,
        "task.optimizer",
        {"_target_": CANARY, "_partial_": True, "path": str(canary)},
        tmp_path / "c.ckpt",
    )
    result = run_cli(
        [
            "-c",
            "from seqzoo.cli import eval_main; eval_main()",
            f"ckpt_path={crafted}",
            f"hydra.run.dir={tmp_path / 'e'}",
        ],
        ROOT,
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"task.optimizer._target_: {CANARY}" in result.stderr and not canary.exists()


def test_what_users_put_in_configs_is_still_built(real_checkpoint, tmp_path):
    """Another torch optimiser or schedule, or a class the user vouches for by name, is fine."""
    ok = craft(real_checkpoint, "task.optimizer._target_", "torch.optim.RMSprop", tmp_path / "rmsprop.ckpt")
    assert set(evaluate(make_cfg(tmp_path / "eval", [f"ckpt_path={ok}"], name="eval"))) >= {"test/loss"}
    config = {"model": {"_target_": CANARY, "hidden_size": 8}}
    with pytest.raises(SeqzooError, match=f"trusted_targets=\\[{CANARY}\\]"):
        check_trusted(config, ("model",), "x.ckpt")
    check_trusted(config, ("model",), "x.ckpt", vouched=[CANARY])


@pytest.mark.parametrize(
    "target",
    [
        "seqzoo.models.LSTM",
        "seqzoo.tasks.ManyToOne",
        "torch.optim.AdamW",
        "torch.nn.GELU",
        "torch.optim.lr_scheduler.OneCycleLR",
        "torchmetrics.classification.MulticlassAccuracy",
    ],
)
def test_building_blocks(target):
    assert is_building_block(target)


@pytest.mark.parametrize(
    "target",
    [
        "os.system",
        "builtins.eval",
        "torch.load",
        "torch.save",
        "pathlib.Path",
        "seqzoo.train.Path",
        "seqzoo.run_report.write_json",
        "torch.optim.Optimizer.zero_grad",
        "subprocess.Popen",
        "seqzoo",
        "torch.nn.functional.linear",
        "torch.optim.torch.load",
    ],
)
def test_not_building_blocks(target):
    assert not is_building_block(target)
