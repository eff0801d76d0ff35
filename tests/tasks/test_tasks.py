"""Each mapping end to end through the real configs: causality rules, checkpoint round trips through
seqzoo-eval and seqzoo-predict with readable output."""

import csv

import numpy as np
import pytest
import torch

from seqzoo.errors import SeqzooError
from seqzoo.train import evaluate, predict, train
from tests.conftest import make_cfg
from tests.tolerance import bound

TINY_S2S = [
    "task=seq2seq",
    "data=reverse",
    "data.n_train=256",
    "data.n_val=32",
    "data.n_test=32",
    "data.max_length=4",
    "model.hidden_size=32",
    "decoder.hidden_size=32",
    "task.embedding_size=16",
    "trainer.max_epochs=2",
    "logger=csv",
]


@pytest.mark.parametrize(
    "overrides,fix",
    [
        (["model=lstm", "model.bidirectional=true"], "model.bidirectional=false"),
        (["model=transformer"], "model.causal=true"),
        (["model=tcn", "model.causal=false"], "model.causal=true"),
    ],
)
def test_next_step_data_refuses_a_backbone_that_looks_ahead(tmp_path, overrides, fix):
    cfg = make_cfg(tmp_path, ["task=aligned", "data=char_lm", "debug=fast_dev_run", *overrides])
    with pytest.raises(SeqzooError, match=f"not causal.*next inputs.*{fix}"):
        train(cfg)


def test_streaming_flag_refuses_a_bidirectional_backbone(tmp_path):
    cfg = make_cfg(
        tmp_path,
        ["task=aligned", "data=copy_memory", "task.causal=true", "model.bidirectional=true", "debug=fast_dev_run"],
    )
    with pytest.raises(SeqzooError, match="task.causal=true asks for streaming"):
        train(cfg)


def test_char_lm_trains_reports_bpc_and_writes_on_from_a_prompt(tmp_path):
    out = tmp_path / "run"
    metrics = train(
        make_cfg(
            out,
            [
                "task=aligned",
                "data=char_lm",
                "model.hidden_size=32",
                "data.sequence_length=64",
                "debug=limit",
                "logger=csv",
            ],
        )
    )
    bpc, nats = metrics["test"]["test/bpc"], metrics["test"]["test/loss"]
    assert abs(bpc - nats / np.log(2)) <= bound(bpc, torch.float32, 2)  # one division, in float32
    (tmp_path / "prompts.txt").write_text("def \nclass A:\n")
    cfg = make_cfg(
        tmp_path / "p",
        [f"ckpt_path={out}/checkpoints/best.ckpt", f"input={tmp_path}/prompts.txt", "+task.sampling.length=25"],
        name="predict",
    )
    rows = list(csv.DictReader(open(predict(cfg))))
    assert [r["name"] for r in rows] == ["line1", "line2"] and all(len(r["prediction"]) == 25 for r in rows)


def test_seq2seq_round_trip_through_eval_and_predict(tmp_path):
    out = tmp_path / "run"
    metrics = train(make_cfg(out, TINY_S2S))
    assert {"test/exact", "test/ter", "test/loss"} <= set(metrics["test"])
    ckpt = f"ckpt_path={out}/checkpoints/best.ckpt"
    again = evaluate(make_cfg(tmp_path / "e", [ckpt], name="eval"))
    assert again == metrics["test"]  # the same weights, batches and operations: bit for bit
    (tmp_path / "words.txt").write_text("123\n4021\n")
    for method in ("greedy", "beam"):
        cfg = make_cfg(
            tmp_path / method, [ckpt, f"input={tmp_path}/words.txt", f"+task.decoding.method={method}"], name="predict"
        )
        rows = list(csv.DictReader(open(predict(cfg))))
        assert len(rows) == 2 and all("<pad>" not in r["prediction"] and "<bos>" not in r["prediction"] for r in rows)
        assert all(float(r["log_prob"]) <= 0 for r in rows)


def test_one_to_many_predicts_captions_for_images(tmp_path):
    out = tmp_path / "run"
    train(
        make_cfg(
            out,
            [
                "task=one_to_many",
                "data=digits_caption",
                "model=gru",
                "model.hidden_size=32",
                "decoder.hidden_size=32",
                "debug=limit",
                "logger=csv",
            ],
        )
    )
    from sklearn.datasets import load_digits

    np.save(tmp_path / "images.npy", (load_digits().images[:3] / 16).astype(np.float32))
    cfg = make_cfg(
        tmp_path / "p", [f"ckpt_path={out}/checkpoints/best.ckpt", f"input={tmp_path}/images.npy"], name="predict"
    )
    rows = list(csv.DictReader(open(predict(cfg))))
    assert [r["name"] for r in rows] == ["images[0]", "images[1]", "images[2]"]
    assert all(set(r["prediction"]) <= set("abcdefghijklmnopqrstuvwxyz") for r in rows)


@pytest.mark.parametrize("decoder", ["rnn", "tcn", "transformer"])
def test_one_to_many_from_a_vector(tmp_path, decoder):
    """A vector condition through the MLP encoder: no memory, the condition alone starts the decoder."""
    from functools import partial

    import torch
    from hydra.utils import instantiate

    from seqzoo.data.batch import CONDITION, TARGETS
    from seqzoo.models.conditioning import MLPCondition
    from seqzoo.tasks import OneToMany

    torch.manual_seed(0)
    cfg = make_cfg(tmp_path, [f"decoder={decoder}", "decoder.dropout=0"])
    task = OneToMany(
        partial(MLPCondition, output_size=32),
        instantiate(cfg.decoder, _partial_=True),
        condition_shape=[5],
        target_tokens=["<pad>", "<bos>", "<eos>", "<unk>", "a", "b"],
        embedding_size=16,
        optimizer=partial(torch.optim.Adam, lr=3e-3),
    )
    vectors = torch.randn(6, 5)
    targets = torch.tensor([[4, 5, 4, 2] if v[0] > 0 else [5, 5, 2, -100] for v in vectors])
    batch = {CONDITION: vectors, TARGETS: targets}
    optimizer = task.configure_optimizers()
    for _ in range(300):
        loss = task.training_step(batch, 0)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    task.eval()
    tokens, _ = task.generate(batch)
    texts = [task.vocab.decode(row) for row in tokens.tolist()]
    assert texts == ["aba" if v[0] > 0 else "bb" for v in vectors]


@pytest.mark.parametrize("every", [1, 2])
def test_training_loss_is_logged_on_logging_steps_with_its_epoch_mean(tmp_path, every):
    """log_train_loss writes train/loss_step where loggers write, and train/loss_epoch as the epoch's mean."""
    out = tmp_path / "run"
    train(
        make_cfg(
            out,
            [
                "model.hidden_size=8",
                "debug=limit",
                "++trainer.limit_train_batches=4",
                "logger=csv",
                f"trainer.log_every_n_steps={every}",
                "data.batch_size=16",
            ],
        )
    )
    rows = list(csv.DictReader(open(out / "csv" / "metrics.csv")))
    steps = [(int(r["epoch"]), float(r["train/loss_step"])) for r in rows if r.get("train/loss_step")]
    means = [float(r["train/loss_epoch"]) for r in rows if r.get("train/loss_epoch")]
    assert len(steps) == 2 * 4 // every and len(means) == 2  # 2 epochs of 4 batches
    if every == 1:  # every step seen: the epoch mean is their mean (equal batch sizes)
        for epoch, mean in enumerate(means):
            losses = [v for e, v in steps if e == epoch]
            assert abs(mean - sum(losses) / len(losses)) <= bound(
                mean, torch.float32, len(losses), both=True
            )  # float32 mean
