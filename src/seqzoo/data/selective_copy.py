"""The selective copying task (Gu & Dao 2023, the Mamba paper), many-to-many aligned.

Input: ``length`` steps of noise (token 0) among which ``n_tokens`` data tokens (1 .. ``vocab``) sit at random
positions, then ``n_tokens`` recall markers (``vocab + 1``). Target: at the markers, the data tokens in their
order of appearance; nothing is scored elsewhere. Unlike copy memory, the tokens' positions change from
sequence to sequence: a model must decide from each input whether to keep it (selection), which a
time-invariant system (a convolution, S4D) cannot do by the position alone. Chance: 1 / ``vocab``.
"""

import torch

from seqzoo.data.base import ArrayItems, SequenceDataModule
from seqzoo.data.batch import INPUTS, TARGETS
from seqzoo.errors import SeqzooError
from seqzoo.layers.masking import IGNORE_INDEX

NOISE = 0


def selective_copy(
    n: int, length: int, n_tokens: int, vocab: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """-> inputs (n, length + n_tokens) and targets (n, length + n_tokens), int64."""
    tokens = torch.randint(1, vocab + 1, (n, n_tokens), generator=generator)
    positions = (
        torch.rand(n, length, generator=generator).argsort(dim=1)[:, :n_tokens].sort(dim=1).values
    )  # distinct, in order
    inputs = torch.full((n, length + n_tokens), NOISE, dtype=torch.long)
    inputs.scatter_(1, positions, tokens)
    inputs[:, length:] = vocab + 1  # the recall markers
    targets = torch.full_like(inputs, IGNORE_INDEX)
    targets[:, length:] = tokens
    return inputs, targets


class SelectiveCopyDataModule(SequenceDataModule):
    mapping = "aligned"
    sequence_targets = True

    def __init__(
        self,
        length: int = 256,
        n_tokens: int = 16,
        vocab: int = 16,
        n_train: int = 20_000,
        n_val: int = 1000,
        n_test: int = 1000,
        seed: int = 0,
        batch_size: int = 64,
        num_workers: int = 0,
    ):
        super().__init__(batch_size, num_workers)
        if not 1 <= n_tokens <= length:
            raise SeqzooError(f"selective copy needs 1 <= n_tokens <= length, got n_tokens={n_tokens}, length={length}")
        self.length, self.n_tokens, self.vocab, self.seed = length, n_tokens, vocab, seed
        self.sizes = {"train": n_train, "val": n_val, "test": n_test}

    def setup(self, stage: str | None = None) -> None:
        if self.splits:
            return
        g = torch.Generator().manual_seed(self.seed)
        for split, n in self.sizes.items():  # one generator, drawn in turn: the splits do not repeat each other
            x, y = selective_copy(n, self.length, self.n_tokens, self.vocab, g)
            self.splits[split] = ArrayItems(**{INPUTS: x, TARGETS: y})

    @property
    def info(self) -> dict:
        return {
            "mapping": self.mapping,
            "input_vocab_size": self.vocab + 2,
            "num_classes": self.vocab + 1,
            "class_names": ["noise", *map(str, range(1, self.vocab + 1))],
            "max_length": self.length + self.n_tokens,
        }

    def encode(self, raw: list) -> list[dict]:
        return [{INPUTS: torch.as_tensor(r, dtype=torch.long).flatten()} for r in raw]
