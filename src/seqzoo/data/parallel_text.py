"""Translation pairs (seq2seq) from a tab-separated file: ``source<TAB>target`` per line; further columns,
such as Tatoeba's attribution, are ignored. Give ``path=`` (one file, split by a seeded shuffle of source sentences)
or ``train_path``/``val_path``/``test_path``. Text is lower-cased (``lowercase``) and split into words
and punctuation (``tokens=word``) or characters (``tokens=char``); vocabularies come from the training
pairs only, capped at ``max_vocab`` tokens each. BLEU is reported on word tokens."""

import re
from pathlib import Path

from seqzoo.data.reading import text_lines
from seqzoo.data.splits import split_examples
from seqzoo.data.text_pairs import TextPairsDataModule
from seqzoo.errors import SeqzooError

WORDS = re.compile(r"\w+|[^\w\s]")


def read_pairs(path: Path) -> list[tuple[str, str]]:
    if not path.is_file():
        raise SeqzooError(
            f"parallel text file {path} does not exist; pass data.path=<file with source<TAB>target lines> "
            "(e.g. a Tatoeba pair file from https://www.manythings.org/anki/)"
        )
    pairs = []
    for number, line in text_lines(path):
        if not line.strip():
            continue
        cols = line.split("\t")
        if len(cols) < 2:
            raise SeqzooError(f"{path}:{number}: expected 'source<TAB>target', found no tab: {line.strip()[:60]!r}")
        if not cols[0].strip() or not cols[1].strip():
            raise SeqzooError(
                f"{path}:{number}: the {'source' if not cols[0].strip() else 'target'} is empty: {line.strip()[:60]!r}"
            )
        pairs.append((cols[0].strip(), cols[1].strip()))
    if not pairs:
        raise SeqzooError(f"{path} holds no pairs")
    return pairs


class ParallelTextDataModule(TextPairsDataModule):
    def __init__(
        self,
        path: str | None = None,
        train_path: str | None = None,
        val_path: str | None = None,
        test_path: str | None = None,
        tokens: str = "word",
        lowercase: bool = True,
        max_vocab: int | None = 20_000,
        max_length: int | None = 50,
        val_fraction: float = 0.05,
        test_fraction: float = 0.05,
        seed: int = 0,
        batch_size: int = 64,
        num_workers: int = 0,
        bucket_by_length: bool = False,
    ):
        super().__init__(batch_size, num_workers, bucket_by_length)
        if tokens not in ("word", "char"):
            raise SeqzooError(f"data.tokens must be word or char, got {tokens!r}")
        if (path is None) == (train_path is None):
            raise SeqzooError(
                "give either data.path=<one tab-separated file> or data.train_path=... (with val_path and test_path)"
            )
        self.path, self.paths = path, {"train": train_path, "val": val_path, "test": test_path} if train_path else None
        self.source_separator = self.target_separator = " " if tokens == "word" else ""
        self.lowercase, self.max_vocab, self.max_length = lowercase, max_vocab, max_length
        self.val_fraction, self.test_fraction, self.seed = val_fraction, test_fraction, seed

    @property
    def info(self) -> dict:
        return {**super().info, "bleu": self.source_separator == " "}

    def normalise(self, text: str) -> str:
        text = text.lower() if self.lowercase else text
        return " ".join(WORDS.findall(text)) if self.source_separator == " " else text

    def prepare_data(self) -> None:
        for p in [self.path] if self.path else self.paths.values():
            if p is None or not Path(p).expanduser().is_file():
                read_pairs(Path(str(p)).expanduser())  # raises with the fix

    def pairs(self) -> dict[str, list[tuple[str, str]]]:
        if self.path:
            pairs = read_pairs(Path(self.path).expanduser())  # all translations of one source stay in one split
            parts = split_examples(
                pairs, self.val_fraction, self.test_fraction, self.seed, key=lambda p: self.normalise(p[0])
            )
        else:
            parts = {s: read_pairs(Path(p).expanduser()) for s, p in self.paths.items()}
        if self.max_length:  # long training pairs cost memory and teach little; evaluation keeps all
            parts["train"] = [
                (s, t)
                for s, t in parts["train"]
                if len(self.normalise(s).split()) <= self.max_length
                and len(self.normalise(t).split()) <= self.max_length
            ]
        return {split: [(self.normalise(s), self.normalise(t)) for s, t in ps] for split, ps in parts.items()}
