"""The copy memory task (the setting of Bai et al. 2018), many-to-many aligned.

Input: 10 symbols drawn from 1-8, then T - 1 blanks (0), the delimiter 9, and 10 more blanks; length
T + 20. Target: blanks everywhere except the last 10 steps, which must repeat the first 10 symbols. A
model that cannot remember T steps back can at best output blanks and guess: cross-entropy
10 log(8) / (T + 20), the baseline to beat.
"""

import torch

from seqzoo.data.base import ArrayItems, SequenceDataModule
from seqzoo.data.batch import INPUTS, TARGETS
from seqzoo.errors import SeqzooError

BLANK, DELIMITER, SYMBOLS, COPIED = 0, 9, 8, 10


def unique_symbols(n: int, generator: torch.Generator) -> torch.Tensor:
    """(n, 10) distinct rows of symbols 1-8, so that no evaluated sequence also appears in training."""
    rows, seen = [], set()
    while len(rows) < n:
        for row in torch.randint(1, SYMBOLS + 1, (n - len(rows) + 16, COPIED), generator=generator):
            key = tuple(row.tolist())
            if key not in seen and len(rows) < n:
                seen.add(key)
                rows.append(row)
    return torch.stack(rows)


def copy_memory(symbols: torch.Tensor, blank_length: int) -> tuple[torch.Tensor, torch.Tensor]:
    """symbols (n, 10) -> inputs (n, T + 20) and targets (n, T + 20), both int64 symbols 0-9"""
    n, length = len(symbols), blank_length + 2 * COPIED
    inputs = torch.full((n, length), BLANK, dtype=torch.long)
    inputs[:, :COPIED] = symbols
    inputs[:, COPIED + blank_length - 1] = DELIMITER
    targets = torch.full((n, length), BLANK, dtype=torch.long)
    targets[:, -COPIED:] = symbols
    return inputs, targets


class CopyMemoryDataModule(SequenceDataModule):
    mapping = "aligned"
    sequence_targets = True

    def __init__(
        self,
        blank_length: int = 1000,
        n_train: int = 10_000,
        n_val: int = 1000,
        n_test: int = 1000,
        seed: int = 0,
        batch_size: int = 32,
        num_workers: int = 0,
    ):
        super().__init__(batch_size, num_workers)
        if blank_length < 1:
            raise SeqzooError(f"copy memory needs blank_length >= 1, got {blank_length}")
        self.blank_length, self.sizes, self.seed = blank_length, {"train": n_train, "val": n_val, "test": n_test}, seed

    def setup(self, stage: str | None = None) -> None:
        if self.splits:
            return
        symbols = unique_symbols(sum(self.sizes.values()), torch.Generator().manual_seed(self.seed))
        x, y = copy_memory(symbols, self.blank_length)
        start = 0
        for split, n in self.sizes.items():
            self.splits[split] = ArrayItems(**{INPUTS: x[start : start + n], TARGETS: y[start : start + n]})
            start += n

    @property
    def info(self) -> dict:
        return {
            "mapping": self.mapping,
            "input_vocab_size": 10,
            "num_classes": 10,
            "class_names": [str(i) for i in range(10)],
            "max_length": self.blank_length + 2 * COPIED,
        }

    def encode(self, raw: list) -> list[dict]:
        return [{INPUTS: torch.as_tensor(r, dtype=torch.long).flatten()} for r in raw]
