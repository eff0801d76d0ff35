"""Sequential and permuted MNIST (many-to-one): an image read as a sequence, pixel by pixel (784 steps of
1 value, the long-memory benchmark of Le et al. 2015 and Bai et al. 2018) or row by row (28 steps of 28).
``permute=true`` shuffles the pixel order with one fixed permutation drawn from ``permutation_seed``.

The files come through torchvision: ``root=`` is the folder holding ``MNIST/raw/`` (the four idx files
as published); ``download=true`` fetches them there. The last ``n_val`` training images are the
validation split; the official 10k test images are the test split.
"""

from pathlib import Path

import torch
from torch.utils.data import Dataset

from seqzoo.data.base import SequenceDataModule
from seqzoo.data.batch import INPUTS, TARGETS
from seqzoo.errors import SeqzooError

MEAN, STD = 0.1307, 0.3081  # of the MNIST training pixels, scaled to [0, 1]


class PixelSequences(Dataset):
    """uint8 images (N, 28, 28) kept as they are; each item becomes a normalised (T, C) sequence."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, pixels_per_step: int, order: torch.Tensor | None):
        self.images, self.labels, self.pixels_per_step, self.order = images, labels, pixels_per_step, order

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> dict:
        x = self.images[i].flatten().float().div(255).sub(MEAN).div(STD)  # (784,)
        if self.order is not None:
            x = x[self.order]
        return {INPUTS: x.view(-1, self.pixels_per_step), TARGETS: self.labels[i]}


class SequentialMNISTDataModule(SequenceDataModule):
    mapping = "many_to_one"

    def __init__(
        self,
        root: str = "data",
        download: bool = False,
        pixels_per_step: int = 1,
        permute: bool = False,
        permutation_seed: int = 0,
        n_val: int = 5000,
        batch_size: int = 64,
        num_workers: int = 0,
    ):
        super().__init__(batch_size, num_workers)
        if 784 % pixels_per_step:
            raise SeqzooError(
                f"pixels_per_step must divide 784 (1 = pixel by pixel, 28 = row by row), got {pixels_per_step}"
            )
        self.root, self.download, self.pixels_per_step, self.n_val = root, download, pixels_per_step, n_val
        self.order = torch.randperm(784, generator=torch.Generator().manual_seed(permutation_seed)) if permute else None

    def load(self, train: bool):
        from torchvision.datasets import MNIST  # only this data set needs torchvision

        root = Path(self.root).expanduser()
        try:
            return MNIST(str(root), train=train, download=self.download)
        except RuntimeError as e:
            raise SeqzooError(
                f"MNIST not found under {root / 'MNIST' / 'raw'} ({e}); pass data.download=true to fetch it there, "
                "or data.root=<folder holding MNIST/raw/ with the four idx files>"
            ) from None

    def prepare_data(self) -> None:
        self.load(train=True), self.load(train=False)

    def setup(self, stage: str | None = None) -> None:
        if self.splits:
            return
        train, test = self.load(train=True), self.load(train=False)
        n = len(train.data) - self.n_val
        make = lambda data, targets: PixelSequences(data, targets, self.pixels_per_step, self.order)
        self.splits = {
            "train": make(train.data[:n], train.targets[:n]),
            "val": make(train.data[n:], train.targets[n:]),
            "test": make(test.data, test.targets),
        }

    def encode(self, images: list) -> list[dict]:
        """Raw images (28, 28) with values 0-255 -> items."""
        data = torch.stack(
            [torch.as_tensor(img).reshape(28, 28).round().clamp(0, 255).to(torch.uint8) for img in images]
        )
        ds = PixelSequences(data, torch.zeros(len(data), dtype=torch.long), self.pixels_per_step, self.order)
        return [{INPUTS: ds[i][INPUTS]} for i in range(len(ds))]

    @property
    def info(self) -> dict:
        return {
            "mapping": self.mapping,
            "input_size": self.pixels_per_step,
            "num_classes": 10,
            "class_names": [str(d) for d in range(10)],
            "max_length": 784 // self.pixels_per_step,
        }

    def state_dict(self) -> dict:
        return {"order": None if self.order is None else self.order.tolist()}

    def load_state_dict(self, state: dict) -> None:
        self.order = None if state["order"] is None else torch.tensor(state["order"])
