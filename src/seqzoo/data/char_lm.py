"""Character language modelling (aligned, next-step prediction) over a text file.

By default the text is the Python documentation that every CPython ships (``pydoc_data.topics``, about
465k characters), so it works offline; ``path=`` reads any UTF-8 text file. The text is split by position
into train / val / test (90 / 5 / 5 %, in that order) and cut into chunks of ``sequence_length`` + 1
characters: inputs are a chunk's first ``sequence_length`` characters, targets the same shifted by one.
The vocabulary comes from the training text only; characters seen first in val/test read as ``<unk>``.
"""

from pathlib import Path

import torch

from seqzoo.data.base import SequenceDataModule
from seqzoo.data.batch import INPUTS, TARGETS
from seqzoo.data.reading import read_text
from seqzoo.data.vocab import Vocab
from seqzoo.errors import SeqzooError


def python_docs() -> str:
    from pydoc_data.topics import topics

    return "".join(topics[k] for k in sorted(topics))


class CharLMDataModule(SequenceDataModule):
    mapping = "aligned"
    sequence_targets = True
    reads_text = True

    def __init__(
        self,
        path: str | None = None,
        sequence_length: int = 128,
        val_fraction: float = 0.05,
        test_fraction: float = 0.05,
        batch_size: int = 64,
        num_workers: int = 0,
    ):
        super().__init__(batch_size, num_workers)
        self.path, self.sequence_length = path, sequence_length
        self.val_fraction, self.test_fraction = val_fraction, test_fraction
        self.vocab: Vocab | None = None

    def text(self) -> str:
        if self.path is None:
            return python_docs()
        path = Path(self.path).expanduser()
        if not path.is_file():
            raise SeqzooError(
                f"text file {path} does not exist; pass data.path=<a UTF-8 text file>, or leave it out for the "
                "Python docs"
            )
        return read_text(path)

    def prepare_data(self) -> None:
        self.text()

    def setup(self, stage: str | None = None) -> None:
        if self.splits:
            return
        text = self.text()
        n_test, n_val = int(len(text) * self.test_fraction), int(len(text) * self.val_fraction)
        parts = {
            "train": text[: len(text) - n_val - n_test],
            "val": text[len(text) - n_val - n_test : len(text) - n_test],
            "test": text[len(text) - n_test :],
        }
        if len(parts["train"]) <= self.sequence_length or min(len(parts["val"]), len(parts["test"])) < 2:
            raise SeqzooError(
                f"{self.path or 'the Python docs'}: the text has {len(text)} characters: too short for "
                f"sequence_length={self.sequence_length}; lower it or use a longer file"
            )
        if self.vocab is None:
            self.vocab = Vocab.build([list(parts["train"])], separator="")
        self.splits = {s: self.chunks(t) for s, t in parts.items()}

    def chunks(self, text: str) -> list[dict]:
        ids, step = torch.tensor(self.vocab.encode(list(text))), self.sequence_length
        starts = range(0, len(ids) - 1, step)  # the last chunk may be shorter: it is padded in the batch
        return [
            {INPUTS: ids[i : min(i + step, len(ids) - 1)], TARGETS: ids[i + 1 : min(i + step, len(ids) - 1) + 1]}
            for i in starts
        ]

    def encode(self, prompts: list[str]) -> list[dict]:
        return [{INPUTS: torch.tensor(self.vocab.encode(list(p)) or [0])} for p in prompts]

    @property
    def info(self) -> dict:
        return {
            "mapping": self.mapping,
            "input_vocab_size": len(self.vocab),
            "num_classes": len(self.vocab),
            "class_names": self.vocab.tokens,
            "next_step": True,
            "max_length": self.sequence_length,
        }

    def state_dict(self) -> dict:
        return {"vocab": self.vocab.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.vocab = Vocab.from_state(state["vocab"])
