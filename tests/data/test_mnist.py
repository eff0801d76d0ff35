import pytest
import torch

from seqzoo.data.batch import INPUTS, TARGETS
from seqzoo.data.mnist import SequentialMNISTDataModule
from seqzoo.errors import SeqzooError
from tests.data.fixtures import mnist_root


@pytest.mark.parametrize("pixels,steps", [(1, 784), (28, 28)])
def test_pixel_and_row_sequences(tmp_path, pixels, steps):
    dm = SequentialMNISTDataModule(root=str(mnist_root(tmp_path)), pixels_per_step=pixels, n_val=10)
    dm.setup()
    assert {k: len(v) for k, v in dm.splits.items()} == {"train": 50, "val": 10, "test": 20}
    item = dm.splits["train"][3]
    assert item[INPUTS].shape == (steps, pixels) and item[TARGETS] == 3
    assert dm.info["input_size"] == pixels and dm.info["max_length"] == steps


def test_permutation_is_fixed_by_its_seed_and_saved(tmp_path):
    root = str(mnist_root(tmp_path))
    plain = SequentialMNISTDataModule(root=root, n_val=10)
    a, b = (SequentialMNISTDataModule(root=root, permute=True, permutation_seed=5, n_val=10) for _ in range(2))
    for dm in (plain, a, b):
        dm.setup()
    x, xa = plain.splits["test"][0][INPUTS].flatten(), a.splits["test"][0][INPUTS].flatten()
    assert torch.equal(xa, x[a.order]) and not torch.equal(xa, x)
    assert torch.equal(a.order, b.order)
    restored = SequentialMNISTDataModule(root=root)
    restored.load_state_dict(a.state_dict())
    img = (plain.splits["test"].images[0]).numpy()
    assert torch.equal(restored.encode([img])[0][INPUTS].flatten(), xa)  # the same state, the same operations


def test_missing_files_say_how_to_get_them(tmp_path):
    with pytest.raises(SeqzooError, match="MNIST not found.*data.download=true"):
        SequentialMNISTDataModule(root=str(tmp_path)).prepare_data()
