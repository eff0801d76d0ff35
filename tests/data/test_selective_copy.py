"""Selective copying: the data tokens sit at distinct random positions in order, the markers come last, only
the recall steps are scored, and the positions change from sequence to sequence."""

import pytest
import torch
from hydra.utils import instantiate

from seqzoo.data.selective_copy import NOISE, selective_copy
from seqzoo.layers.masking import IGNORE_INDEX
from seqzoo.models.sizing import count_parameters
from seqzoo.train import build_task
from tests.conftest import encoder_names, make_cfg


def test_the_recall_steps_repeat_the_data_tokens_in_order():
    x, y = selective_copy(50, length=30, n_tokens=5, vocab=7, generator=torch.Generator().manual_seed(0))
    assert x.shape == y.shape == (50, 35)
    assert (x[:, 30:] == 8).all() and ((x[:, :30] == NOISE) | ((x[:, :30] >= 1) & (x[:, :30] <= 7))).all()
    for row_x, row_y in zip(x, y):
        data = row_x[:30][row_x[:30] != NOISE]
        assert len(data) == 5 and torch.equal(row_y[30:], data)  # in order of appearance
    assert (y[:, :30] == IGNORE_INDEX).all()
    positions = {tuple((row[:30] != NOISE).nonzero().flatten().tolist()) for row in x}
    assert len(positions) > 40  # selection: the positions are not fixed


@pytest.mark.parametrize("family", encoder_names())
def test_the_preset_builds_every_family_at_its_budget(tmp_path, family):
    """experiment=selective_copy (causal: recall comes at the end) sizes every family to 100k parameters; a
    family that looks ahead by default is made causal by its experiment_model file."""
    cfg = make_cfg(
        tmp_path,
        [
            "experiment=selective_copy",
            f"model={family}",
            "data.length=40",
            "data.n_train=64",
            "data.n_val=16",
            "data.n_test=16",
        ],
    )
    dm = instantiate(cfg.data)
    dm.setup("fit")
    task = build_task(cfg, dm.info)
    assert abs(count_parameters(task) - 100_000) <= 5_000
