"""Algorithmic seq2seq tasks over strings of digits, generated from a seed:

- ``reverse``:  "40213" -> "31204"
- ``sort``:     "40213" -> "01234"
- ``addition``: "123+45" -> "168"

Sources are unique across train, validation and test, so no evaluated example was seen in training.
"""

import random

from seqzoo.data.text_pairs import TextPairsDataModule
from seqzoo.errors import SeqzooError

TASKS = ("reverse", "sort", "addition")


def make_pair(task: str, rng: random.Random, min_length: int, max_length: int) -> tuple[str, str]:
    if task == "addition":
        a, b = (rng.randint(0, 10 ** rng.randint(min_length, max_length) - 1) for _ in range(2))
        return f"{a}+{b}", str(a + b)
    digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(min_length, max_length)))
    return digits, digits[::-1] if task == "reverse" else "".join(sorted(digits))


class StringTaskDataModule(TextPairsDataModule):
    def __init__(
        self,
        task: str = "reverse",
        min_length: int = 1,
        max_length: int = 10,
        n_train: int = 20_000,
        n_val: int = 1000,
        n_test: int = 1000,
        seed: int = 0,
        batch_size: int = 64,
        num_workers: int = 0,
        bucket_by_length: bool = False,
    ):
        super().__init__(batch_size, num_workers, bucket_by_length)
        if task not in TASKS:
            raise SeqzooError(f"unknown string task {task!r}; choose one of {', '.join(TASKS)}")
        if not 1 <= min_length <= max_length:
            raise SeqzooError(f"need 1 <= min_length <= max_length, got {min_length} and {max_length}")
        self.task, self.min_length, self.max_length, self.seed = task, min_length, max_length, seed
        self.sizes = {"train": n_train, "val": n_val, "test": n_test}

    def pairs(self) -> dict[str, list[tuple[str, str]]]:
        rng, wanted, pairs = random.Random(self.seed), sum(self.sizes.values()), {}
        for _ in range(50 * wanted):
            src, tgt = make_pair(self.task, rng, self.min_length, self.max_length)
            pairs.setdefault(src, tgt)
            if len(pairs) == wanted:
                break
        else:
            raise SeqzooError(
                f"only {len(pairs)} distinct {self.task} examples of length {self.min_length}-{self.max_length} exist "
                f"or were found; ask for fewer than {wanted} or allow longer strings"
            )
        items, out, start = list(pairs.items()), {}, 0
        for split, n in self.sizes.items():
            out[split] = items[start : start + n]
            start += n
        return out
