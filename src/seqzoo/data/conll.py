"""Token tagging (aligned) from CoNLL-style files: one token per line with whitespace-separated columns,
a blank line between sentences; ``#`` comments and ``-DOCSTART-`` lines are skipped, as are CoNLL-U
multiword-token and empty-node lines (ids like ``3-4`` or ``5.1``). Works for CoNLL-2003 NER (the tag is
the last column, ``tag_column=-1``) and Universal Dependencies (UPOS: ``tag_column=3``).

Give ``path=`` (one file, split by a seeded shuffle of sentences) or ``train_path``/``val_path``/
``test_path`` (official splits). Word and tag vocabularies come from the training sentences only: unseen
words read as ``<unk>``; tags never seen in training are left out of loss and metrics (counted in
``unseen_tags``).
"""

from pathlib import Path

import torch

from seqzoo.data.base import SequenceDataModule
from seqzoo.data.batch import INPUTS, TARGETS
from seqzoo.data.reading import text_lines
from seqzoo.data.splits import split_examples
from seqzoo.data.vocab import Vocab
from seqzoo.errors import SeqzooError
from seqzoo.layers.masking import IGNORE_INDEX

Sentence = list[tuple[str, str]]


def read_conll(path: Path, token_column: int, tag_column: int) -> list[Sentence]:
    if not path.is_file():
        raise SeqzooError(
            f"CoNLL file {path} does not exist; pass data.path=<file> or data.train_path/val_path/test_path"
        )
    sentences, current = [], []
    for number, line in text_lines(path):
        line = line.strip()
        if not line:
            if current:
                sentences.append(current)
            current = []
            continue
        if line.startswith("#") or line.startswith("-DOCSTART-"):
            continue
        cols = line.split("\t") if "\t" in line else line.split()
        if len(cols) == 10 and ("-" in cols[0] or "." in cols[0]):
            continue  # CoNLL-U multiword token or empty node
        try:
            current.append((cols[token_column], cols[tag_column]))
        except IndexError:
            raise SeqzooError(
                f"{path}:{number}: needs columns {token_column} (token) and {tag_column} (tag), got {len(cols)}: "
                f"{line[:60]!r}"
            ) from None
    if current:
        sentences.append(current)
    if not sentences:
        raise SeqzooError(
            f"{path} holds no sentences: expected one 'token ... tag' line per token, blank lines between sentences"
        )
    return sentences


class CoNLLDataModule(SequenceDataModule):
    mapping = "aligned"
    sequence_targets = True
    reads_text = True

    def __init__(
        self,
        path: str | None = None,
        train_path: str | None = None,
        val_path: str | None = None,
        test_path: str | None = None,
        token_column: int = 0,
        tag_column: int = -1,
        lowercase: bool = False,
        min_count: int = 1,
        val_fraction: float = 0.1,
        test_fraction: float = 0.1,
        seed: int = 0,
        batch_size: int = 32,
        num_workers: int = 0,
        bucket_by_length: bool = False,
    ):
        super().__init__(batch_size, num_workers, bucket_by_length)
        if (path is None) == (train_path is None):
            raise SeqzooError(
                "give either data.path=<one CoNLL file> or data.train_path=... (with val_path and test_path)"
            )
        self.paths = {"train": train_path, "val": val_path, "test": test_path} if train_path else None
        self.path, self.token_column, self.tag_column, self.lowercase, self.min_count = (
            path,
            token_column,
            tag_column,
            lowercase,
            min_count,
        )
        self.val_fraction, self.test_fraction, self.seed = val_fraction, test_fraction, seed
        self.words: Vocab | None = None
        self.tags: list[str] | None = None
        self.unseen_tags = 0

    def read(self, path) -> list[Sentence]:
        if path is None:
            raise SeqzooError("with data.train_path, also give data.val_path and data.test_path")
        return read_conll(Path(path).expanduser(), self.token_column, self.tag_column)

    def prepare_data(self) -> None:
        for p in [self.path] if self.path else self.paths.values():
            if not Path(p or "").expanduser().is_file():
                raise SeqzooError(
                    f"CoNLL file {p} does not exist; pass data.path=<file> or data.train_path/val_path/test_path"
                )

    def setup(self, stage: str | None = None) -> None:
        if self.splits:
            return
        if self.path:
            words = lambda sentence: tuple(w for w, _ in sentence)  # a repeated sentence stays in one split
            parts = split_examples(self.read(self.path), self.val_fraction, self.test_fraction, self.seed, key=words)
        else:
            parts = {s: self.read(p) for s, p in self.paths.items()}
        if self.words is None:
            self.words = Vocab.build(
                ([self.norm(w) for w, _ in s] for s in parts["train"]), " ", min_count=self.min_count
            )
            self.tags = sorted({t for s in parts["train"] for _, t in s})
        self.splits = {
            split: self.encode([[w for w, _ in s] for s in sents], [[t for _, t in s] for s in sents])
            for split, sents in parts.items()
        }

    def norm(self, word: str) -> str:
        return word.lower() if self.lowercase else word

    def encode(self, sentences: list, tags: list[list[str]] | None = None) -> list[dict]:
        """Sentences as token lists, or as strings split on whitespace (for seqzoo-predict on .txt)."""
        index, items = {t: i for i, t in enumerate(self.tags)}, []
        for i, sentence in enumerate(sentences):
            words = sentence.split() if isinstance(sentence, str) else sentence
            item = {INPUTS: torch.tensor(self.words.encode([self.norm(w) for w in words]) or [0])}
            if tags is not None:
                ids = [index.get(t, IGNORE_INDEX) for t in tags[i]]
                self.unseen_tags += ids.count(IGNORE_INDEX)
                item[TARGETS] = torch.tensor(ids)
            items.append(item)
        return items

    @property
    def info(self) -> dict:
        return {
            "mapping": self.mapping,
            "input_vocab_size": len(self.words),
            "num_classes": len(self.tags),
            "class_names": self.tags,
        }

    def state_dict(self) -> dict:
        return {"words": self.words.state_dict(), "tags": self.tags}

    def load_state_dict(self, state: dict) -> None:
        self.words, self.tags = Vocab.from_state(state["words"]), state["tags"]
