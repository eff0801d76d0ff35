"""The adding problem (Hochreiter & Schmidhuber 1997; the setting of Bai et al. 2018), many-to-one regression.

Each step holds two channels: a value drawn uniformly from [0, 1] and a marker that is 1 at exactly two
steps, one in each half of the sequence. The target is the sum of the two marked values; predicting 1
always scores an MSE of about 0.167, the baseline a model must beat.
"""

import torch

from seqzoo.data.base import ArrayItems, SequenceDataModule
from seqzoo.data.batch import INPUTS, TARGETS
from seqzoo.errors import SeqzooError


def adding_problem(n: int, length: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """-> inputs (n, T, 2), targets (n,)"""
    values = torch.rand(n, length, generator=generator)
    half = length // 2
    first = torch.randint(0, half, (n,), generator=generator)
    second = torch.randint(half, length, (n,), generator=generator)
    markers = torch.zeros(n, length)
    rows = torch.arange(n)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    return torch.stack([values, markers], dim=-1), values[rows, first] + values[rows, second]


class AddingDataModule(SequenceDataModule):
    mapping = "many_to_one"

    def __init__(
        self,
        length: int = 600,
        n_train: int = 50_000,
        n_val: int = 1000,
        n_test: int = 1000,
        seed: int = 0,
        batch_size: int = 32,
        num_workers: int = 0,
    ):
        super().__init__(batch_size, num_workers)
        if length < 2:
            raise SeqzooError(f"the adding problem needs length >= 2, got {length}")
        self.length, self.sizes, self.seed = length, {"train": n_train, "val": n_val, "test": n_test}, seed

    def setup(self, stage: str | None = None) -> None:
        if self.splits:
            return
        for offset, (split, n) in enumerate(self.sizes.items()):  # one generator per split: fixed by seed alone
            x, y = adding_problem(n, self.length, torch.Generator().manual_seed(self.seed * 3 + offset))
            self.splits[split] = ArrayItems(**{INPUTS: x, TARGETS: y})

    @property
    def info(self) -> dict:
        return {
            "mapping": self.mapping,
            "input_size": 2,
            "num_classes": None,
            "num_targets": 1,
            "max_length": self.length,
        }

    def encode(self, raw: list) -> list[dict]:
        return [{INPUTS: torch.as_tensor(r, dtype=torch.float32)} for r in raw]
