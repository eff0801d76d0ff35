"""A checkpoint that does not fit the run that resumes or evaluates it is named as such before anything is
built: each difference, the checkpoint's value and the fix, exit status 2. Allowed changes still resume."""

import pytest
import torch

from seqzoo.checkpoint_fit import check_fits, config_differences, size_differences
from seqzoo.errors import SeqzooError
from seqzoo.train import evaluate, train
from tests.conftest import ROOT, make_cfg, run_cli

QUICK = ["debug=limit", "logger=csv", "model.hidden_size=8", "trainer.max_epochs=1"]


@pytest.fixture(scope="module")
def lstm_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("lstm")
    train(make_cfg(out, QUICK))
    return out / "checkpoints" / "last.ckpt"


@pytest.mark.parametrize(
    "change,named",
    [
        (["model=gru"], ["model._target_: 'seqzoo.models.LSTM' in the checkpoint, 'seqzoo.models.GRU' now"]),
        (["model.hidden_size=16"], ["model.hidden_size: 8 in the checkpoint, 16 now", "model.hidden_size=8"]),
        (["model.num_layers=2"], ["model.num_layers: 1 in the checkpoint, 2 now"]),
        (["task.pooling=mean"], ["task.pooling"]),
        (
            ["data=uea", "data.name=BasicMotions"],
            [
                "data.name: 'JapaneseVowels' in the checkpoint, 'BasicMotions' now",
                "data size input_size: 12 in the checkpoint, 6 now",
            ],
        ),
    ],
    ids=["family", "width", "depth", "task", "data"],
)
def test_resuming_with_a_checkpoint_that_does_not_fit_names_each_difference(lstm_run, tmp_path, change, named):
    with pytest.raises(SeqzooError) as e:
        train(make_cfg(tmp_path, QUICK + change + [f"ckpt_path={lstm_run}"]))
    for text in named:
        assert text in str(e.value)
    assert "start a new run without ckpt_path" in str(e.value)
    assert not (tmp_path / "checkpoints").exists()  # refused before anything was built or trained


def test_allowed_changes_resume(lstm_run, tmp_path):
    """More epochs, other devices, loggers, callbacks, loader workers: the run continues."""
    metrics = train(
        make_cfg(
            tmp_path,
            QUICK
            + [
                "trainer.max_epochs=2",
                "logger=default",
                "data.num_workers=0",
                "callbacks.progress_bar=null",
                "seed=9",
                f"ckpt_path={lstm_run}",
            ],
        )
    )
    assert metrics["epochs"] == 2 and metrics["global_step"] == 6 and metrics["seconds"] > 0


def test_the_command_line_says_it_in_one_message_with_status_2(lstm_run, tmp_path):
    result = run_cli(
        ["train.py", *QUICK, "model=gru", f"ckpt_path={lstm_run}", f"hydra.run.dir={tmp_path / 'r'}"], ROOT
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "does not fit the run you asked to resume" in result.stderr and "size mismatch" not in result.stderr


def test_a_budgeted_run_resumed_for_more_epochs_is_told_its_batch_size(tmp_path):
    """The budget chose the batch size; an explicit epoch count turns the budget off, and the message says
    which batch size the run had (budget.epochs=N keeps the budget and needs nothing else)."""
    common = [
        "logger=csv",
        "model.hidden_size=8",
        "budget.epochs=1",
        "budget.min_steps=0",
        "budget.min_batches=80",
        "+trainer.limit_val_batches=2",
        "+trainer.limit_test_batches=2",
    ]
    train(make_cfg(tmp_path / "a", common))
    last = tmp_path / "a" / "checkpoints" / "last.ckpt"
    batch = torch.load(last, weights_only=True)["seqzoo"]["config"]["data"]["batch_size"]
    with pytest.raises(SeqzooError, match=f"data.batch_size={batch}"):
        train(make_cfg(tmp_path / "b", common + ["trainer.max_epochs=2", f"ckpt_path={last}"]))
    more = train(make_cfg(tmp_path / "c", [*common[:2], "budget.epochs=2", *common[3:], f"ckpt_path={last}"]))
    assert more["epochs"] == 2


def test_evaluating_on_other_data_is_refused_by_name(lstm_run, tmp_path):
    """The data module checks the checkpoint's classes first; sizes are compared after set-up."""
    with pytest.raises(SeqzooError, match="BasicMotions: labels .* are not among the declared classes"):
        evaluate(make_cfg(tmp_path, [f"ckpt_path={lstm_run}", "+data.name=BasicMotions"], name="eval"))
    with pytest.raises(SeqzooError, match="data size input_size: 12 in the checkpoint, 6 now"):
        check_fits(lstm_run, size_differences({"input_size": 12, "bleu": 1}, {"input_size": 6, "bleu": 2}), "evaluate")


def test_differences_are_found_at_any_depth_and_in_either_direction():
    saved = {"model": {"a": 1, "b": {"c": 2}}, "task": {"decoding": {"beam": 4}}, "data": {"root": "/x"}}
    now = {"model": {"a": 1, "b": {"c": 3}, "d": 0}, "task": {"decoding": {"beam": 8}}, "data": {"root": "/y"}}
    assert [k for k, *_ in config_differences(saved, now)] == ["model.b.c", "model.d"]
