"""Attention of every attending decoder can be looked at: weights over real memory only, summing to 1,
and the callback writes one PNG per example and epoch, named so they sort by epoch."""

import pytest
import torch

from seqzoo.train import train
from tests.conftest import make_cfg
from tests.tasks.test_decoding import DECODERS, setup
from tests.tolerance import assert_within


@pytest.mark.parametrize("name", DECODERS)
def test_attention_weights_are_distributions_over_real_memory(name):
    model, ctx = setup(name)
    prev = torch.randint(4, 12, (5, 6))
    weights = model.attention(prev, **ctx)
    offset = weights.shape[-1] - ctx["memory"].shape[1]  # the Transformer puts its condition slot first
    assert weights.shape == (5, 6, offset + 7)
    assert_within(weights.sum(-1), torch.ones(5, 6), torch.float32, weights.shape[-1], "attention rows summed")
    padded = ~ctx["memory_mask"]
    assert weights[..., offset:].masked_select(padded[:, None, :].expand(-1, 6, -1)).abs().max() == 0


def test_callback_writes_heatmaps_each_epoch(tmp_path):
    cfg = make_cfg(
        tmp_path,
        [
            "task=seq2seq",
            "data=reverse",
            "data.n_train=64",
            "data.n_val=16",
            "data.n_test=16",
            "data.max_length=5",
            "callbacks=attention_maps",
            "logger=csv",
            "trainer.max_epochs=2",
            "model.hidden_size=16",
            "decoder.hidden_size=16",
        ],
    )
    train(cfg)
    names = sorted(p.name for p in (tmp_path / "attention").iterdir())
    assert names == [f"epoch={e:03d}_example={i}.png" for e in range(2) for i in range(4)]
    assert all((tmp_path / "attention" / n).read_bytes()[:4] == b"\x89PNG" for n in names)
