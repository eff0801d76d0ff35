"""The zoo's promise: every backbone family in every mapping, built from the real configs, learns one
small batch by heart (debug=overfit). Families and mappings are discovered from configs/, so new ones
are covered without edits."""

import pytest
import torch
from hydra.utils import instantiate

from seqzoo.tasks.plain_loop import plain_steps
from seqzoo.train import build_task
from tests.conftest import config_names, make_cfg

SMALL_DATA = {
    "many_to_one": ["data=japanese_vowels", "data.batch_size=8"],
    "aligned": [
        "data=copy_memory",
        "data.blank_length=6",
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
MATRIX = [(m, t) for m in config_names("model") for t in config_names("task")]


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
    loss = overfit_loss(tmp_path, mapping, [f"model={family}", "model.dropout=0", "decoder.dropout=0"])
    assert loss < 0.02, f"{family} on {mapping}: loss {loss:.4f}"
