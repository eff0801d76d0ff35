"""A diverging run stops at its first non-finite loss, says so and what fixes it, and saves no NaN weights."""

import json

import lightning as L
import pytest
import torch

from seqzoo.errors import SeqzooError
from seqzoo.train import train
from tests.conftest import make_cfg


class PoisonAt(L.Callback):
    """Writes NaN into one weight before training step ``step``: a divergence at a known point."""

    def __init__(self, step: int):
        self.step = step

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if trainer.global_step == self.step:
            with torch.no_grad():
                next(pl_module.parameters()).view(-1)[0] = float("nan")


def test_a_learning_rate_far_too_high_stops_the_run_with_the_fix(tmp_path):
    cfg = make_cfg(tmp_path, ["task.optimizer.lr=1e6", "trainer.max_epochs=3", "logger=csv", "model.hidden_size=16"])
    with pytest.raises(
        SeqzooError, match=r"diverged: the training loss was not finite at step \d+; a lower learning rate"
    ):
        train(cfg)
    assert json.loads((tmp_path / "metrics.json").read_text())["diverged"]["what"] == "training loss"


def test_the_checkpoints_keep_the_last_finite_weights(tmp_path):
    """NaN at step 20 (epoch 1 of 16-batch epochs): epoch 0's checkpoints stay, and stay finite."""
    cfg = make_cfg(
        tmp_path,
        [
            "trainer.max_epochs=3",
            "logger=csv",
            "model.hidden_size=16",
            f"+callbacks.poison={{_target_: {__name__}.PoisonAt, step: 20}}",
        ],
    )
    with pytest.raises(SeqzooError, match="not finite at step 20.*The last finite weights: .*last.ckpt"):
        train(cfg)
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert saved["diverged"] == {"what": "training loss", "step": 20} and "test" not in saved
    for name in ("best.ckpt", "last.ckpt"):
        ckpt = torch.load(tmp_path / "checkpoints" / name, weights_only=False)
        assert ckpt["global_step"] == 16 and all(torch.isfinite(w).all() for w in ckpt["state_dict"].values()), name


def test_a_healthy_run_is_not_stopped(tmp_path):
    metrics = train(make_cfg(tmp_path, ["debug=limit", "logger=csv", "model.hidden_size=16"]))
    assert "diverged" not in metrics and metrics["global_step"] == 6


def test_a_loss_over_no_scored_step_is_zero_not_nan():
    from seqzoo.layers.masking import IGNORE_INDEX
    from seqzoo.tasks.scoring import scored_cross_entropy

    logits = torch.randn(4, 3, requires_grad=True)
    nothing = torch.full((4,), IGNORE_INDEX)
    loss = scored_cross_entropy(logits, nothing, label_smoothing=0.1)
    loss.backward()
    assert loss.item() == 0 and torch.equal(logits.grad, torch.zeros_like(logits))
    some = torch.tensor([0, IGNORE_INDEX, 2, IGNORE_INDEX])
    want = torch.nn.functional.cross_entropy(logits, some, ignore_index=IGNORE_INDEX)  # torch's mean over the scored
    assert (
        torch.equal(scored_cross_entropy(logits, some), want)
        or abs(scored_cross_entropy(logits, some) - want) <= 2 * 2**-24 * want
    )


def test_a_validation_split_that_scores_nothing_is_named_with_its_sizes_not_called_divergence(tmp_path):
    def tagged(name, tags, sentences):
        lines = [line for s in range(sentences) for line in (f"w{s} {tags[0]}", f"v{s} {tags[-1]}", "")]
        (tmp_path / name).write_text("\n".join(lines) + "\n")
        return str(tmp_path / name)

    files = {
        "train_path": tagged("train.txt", "AB", 12),
        "val_path": tagged("val.txt", "Z", 3),
        "test_path": tagged("test.txt", "AB", 3),
    }
    cfg = make_cfg(
        tmp_path / "run",
        [
            "task=aligned",
            "data=conll",
            "logger=csv",
            "model.hidden_size=8",
            "trainer.max_epochs=1",
            *(f"data.{k}={v}" for k, v in files.items()),
        ],
    )
    with pytest.raises(SeqzooError) as e:
        train(cfg)
    assert (
        "the val split scores no step" in str(e.value)
        and "val 3" in str(e.value)
        and "the run diverged" not in str(e.value)
    )
    files["train_path"] = tagged("one.txt", "A", 12)  # one tag only: named, not torchmetrics' error from deep inside
    with pytest.raises(SeqzooError, match="the training split holds 1 class .*a classifier needs at least two"):
        train(
            make_cfg(
                tmp_path / "one",
                [
                    "task=aligned",
                    "data=conll",
                    "logger=csv",
                    "model.hidden_size=8",
                    *(f"data.{k}={v}" for k, v in files.items()),
                ],
            )
        )
