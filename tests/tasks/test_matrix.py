"""The zoo's promise: every backbone family in every mapping, built from the real configs, learns one
small batch by heart (debug=overfit). Families and mappings are discovered from configs/, so new ones
are covered without edits."""

import pytest
import torch
from hydra.utils import instantiate

from seqzoo.models.interface import reach
from seqzoo.models.registry import list_models
from seqzoo.tasks.plain_loop import plain_steps
from seqzoo.train import build_task
from tests.conftest import config_names, make_cfg, small_part

COPY_LENGTH = 26  # copy memory: 10 symbols, T - 1 blanks, a delimiter, 10 blanks over which the symbols come back
SMALL_DATA = {
    "many_to_one": ["data=japanese_vowels", "data.batch_size=8"],
    "aligned": [
        "data=copy_memory",
        f"data.blank_length={COPY_LENGTH - 20}",
        "data.n_train=8",
        "data.n_val=8",
        "data.n_test=8",
        "data.batch_size=8",
    ],
    "seq2seq": [
        "data=reverse",
        "data.max_length=5",
        "data.n_train=8",
        "data.n_val=8",
        "data.n_test=8",
        "data.batch_size=8",
    ],
    "one_to_many": ["data=digits_caption", "data.batch_size=8"],
    "forecast": ["data=airline", "data.batch_size=8", "task.output=point", "task.point_loss=mse"],
}
DECODERS = set(config_names("decoder"))
# one_to_many's only sequence model is the decoder: a family without a decoder config has no part in it
FORECASTERS = set(list_models("forecaster"))  # a direct forecaster serves task=forecast alone
MATRIX = [
    (m, t)
    for m in config_names("model")
    for t in config_names("task")
    if (m in DECODERS or t != "one_to_many") and (m not in FORECASTERS or t == "forecast")
]


def family_overrides(family: str, mapping: str) -> list[str]:
    """The family as encoder (and decoder, when it has that role); seq2seq pairs an encoder-only family with GRU."""
    if family in DECODERS:
        return [f"model={family}", "model.dropout=0", "decoder.dropout=0"]
    if family in FORECASTERS:  # no dropout to turn off
        return [f"model={family}"]
    return [f"model={family}", "model.dropout=0"] + (
        ["decoder=gru", "decoder.dropout=0"] if mapping == "seq2seq" else []
    )


def overfit_loss(tmp_path, mapping: str, overrides: list[str]) -> float:
    """The training loss after at most 400 steps on one batch of the mapping's small data set."""
    torch.manual_seed(0)
    cfg = make_cfg(tmp_path, [f"task={mapping}", "debug=overfit", *overrides, *SMALL_DATA[mapping]])
    dm = instantiate(cfg.data)
    dm.prepare_data()
    dm.setup("fit")
    task = build_task(cfg, dm.info)
    batch = next(iter(dm.train_dataloader()))
    optimizer = task.configure_optimizers()  # the task config's own optimiser (debug=overfit drops the schedule)
    for loss in plain_steps(task, optimizer, [batch] * 400, lambda b: task.training_step(b, 0)):
        if loss.item() < 0.02:
            break
    return loss.item()


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:.*self.log.*")
@pytest.mark.parametrize("family,mapping", MATRIX, ids=[f"{m}-{t}" for m, t in MATRIX])
def test_every_family_overfits_a_batch_in_every_mapping(tmp_path, family, mapping):
    seen = None if family in FORECASTERS else reach(small_part("model", family)(input_size=1))
    if mapping == "aligned" and seen is not None and seen < COPY_LENGTH:  # FCN: 14 steps, the paper's design
        pytest.skip(f"{family} sees {seen} steps; copying back over {COPY_LENGTH} needs more than its receptive field")
    loss = overfit_loss(tmp_path, mapping, family_overrides(family, mapping))
    assert loss < 0.02, f"{family} on {mapping}: loss {loss:.4f}"
