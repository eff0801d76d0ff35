"""Checkpoints hold tensors and plain data only and are read with weights_only=True."""

import argparse

import pytest
import torch

from seqzoo.checkpoint import load_checkpoint
from seqzoo.errors import SeqzooError


def test_a_checkpoint_holding_arbitrary_objects_is_refused_unopened(tmp_path):
    """Unpickling arbitrary objects could run code from the file: seqzoo loads tensors and plain data only."""
    path = tmp_path / "odd.ckpt"
    torch.save({"state_dict": {}, "seqzoo": {}, "extra": argparse.Namespace(a=1)}, path)
    with pytest.raises(SeqzooError, match="beyond tensors and plain data"):
        load_checkpoint(path)
    torch.save({"state_dict": {"w": torch.ones(2)}, "seqzoo": {"config": {"a": [1, 2]}}}, path)
    assert load_checkpoint(path)["seqzoo"]["config"] == {"a": [1, 2]}
