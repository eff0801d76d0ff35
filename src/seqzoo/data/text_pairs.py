"""Shared by every seq2seq data set: (source text, target text) pairs -> vocabularies and items.

Vocabularies come from the training pairs only and go into checkpoints; targets end in ``<eos>``, and
the task shifts them right behind ``<bos>`` for teacher forcing.
"""

import torch

from seqzoo.data.base import SequenceDataModule
from seqzoo.data.batch import INPUTS, TARGETS
from seqzoo.data.vocab import PAD_ID, Vocab, tokenize


class TextPairsDataModule(SequenceDataModule):
    mapping = "seq2seq"
    sequence_targets = True
    reads_text = True
    source_separator = ""  # "" = characters; " " = words/phonemes
    target_separator = ""
    max_vocab: int | None = None  # tokens per vocabulary, specials included; None keeps all

    def __init__(self, batch_size: int = 64, num_workers: int = 0, bucket_by_length: bool = False):
        super().__init__(batch_size, num_workers, bucket_by_length)
        self.source_vocab: Vocab | None = None
        self.target_vocab: Vocab | None = None

    def pairs(self) -> dict[str, list[tuple[str, str]]]:
        """{"train", "val", "test"} -> (source, target) text pairs; each data set writes this."""
        raise NotImplementedError

    def setup(self, stage: str | None = None) -> None:
        if self.splits:
            return
        pairs = self.pairs()
        if self.source_vocab is None:
            self.source_vocab = Vocab.build(
                (tokenize(s, self.source_separator) for s, _ in pairs["train"]),
                self.source_separator,
                max_size=self.max_vocab,
            )
            self.target_vocab = Vocab.build(
                (tokenize(t, self.target_separator) for _, t in pairs["train"]),
                self.target_separator,
                max_size=self.max_vocab,
            )
        self.splits = {split: self.items([s for s, _ in ps], [t for _, t in ps]) for split, ps in pairs.items()}
        self.max_target_length = max(len(it[TARGETS]) for items in self.splits.values() for it in items)

    def normalise(self, text: str) -> str:
        """How raw text becomes the text ``pairs()`` returns; predictions go through it too."""
        return text

    def encode(self, sources: list[str]) -> list[dict]:
        """Raw source texts (for seqzoo-predict) -> items."""
        return self.items([self.normalise(s) for s in sources])

    def items(self, sources: list[str], targets: list[str] | None = None) -> list[dict]:
        """Normalised texts -> items: source ids, and target ids ending in <eos>."""
        items = []
        for i, src in enumerate(sources):
            item = {INPUTS: torch.tensor(self.source_vocab.encode(self.source_vocab.split(src)) or [PAD_ID])}
            if targets is not None:
                item[TARGETS] = torch.tensor(self.target_vocab.encode(self.target_vocab.split(targets[i]), eos=True))
            items.append(item)
        return items

    @property
    def info(self) -> dict:
        return {
            "mapping": self.mapping,
            "input_vocab_size": len(self.source_vocab),
            "target_vocab_size": len(self.target_vocab),
            "target_tokens": self.target_vocab.tokens,
            "target_separator": self.target_vocab.separator,
            "max_target_length": self.max_target_length,
        }

    def state_dict(self) -> dict:
        return {"source_vocab": self.source_vocab.state_dict(), "target_vocab": self.target_vocab.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.source_vocab = Vocab.from_state(state["source_vocab"])
        self.target_vocab = Vocab.from_state(state["target_vocab"])
