"""Token vocabularies with the four specials every text task needs, built from the training split only.

Ids 0-3 are always ``<pad>``, ``<bos>``, ``<eos>``, ``<unk>``: padding id 0 lets token batches be padded
with zeros like feature batches. A vocabulary is a list of strings, so it goes into checkpoints as is.
"""

from collections import Counter
from collections.abc import Iterable

PAD, BOS, EOS, UNK = "<pad>", "<bos>", "<eos>", "<unk>"
SPECIALS = [PAD, BOS, EOS, UNK]
PAD_ID, BOS_ID, EOS_ID, UNK_ID = range(4)


def tokenize(text: str, separator: str) -> list[str]:
    """ "" splits into characters; any other separator splits on it (" " on any whitespace)."""
    return list(text) if separator == "" else text.split(None if separator == " " else separator)


class Vocab:
    """``separator`` joins decoded tokens: "" for characters, " " for words or phonemes."""

    def __init__(self, tokens: list[str], separator: str = ""):
        if tokens[:4] != SPECIALS:
            tokens = SPECIALS + [t for t in tokens if t not in SPECIALS]
        self.tokens, self.separator = list(tokens), separator
        self.index = {t: i for i, t in enumerate(self.tokens)}

    @classmethod
    def build(
        cls, sequences: Iterable[list[str]], separator: str = "", min_count: int = 1, max_size: int | None = None
    ) -> "Vocab":
        """From tokenised training sequences: most frequent first, ties in sorted order (deterministic)."""
        counts = Counter(t for seq in sequences for t in seq)
        kept = sorted((t for t, c in counts.items() if c >= min_count), key=lambda t: (-counts[t], t))
        return cls(kept[: max_size - 4] if max_size else kept, separator)

    def __len__(self) -> int:
        return len(self.tokens)

    def split(self, text: str) -> list[str]:
        return tokenize(text, self.separator)

    def encode(self, tokens: list[str], bos: bool = False, eos: bool = False) -> list[int]:
        ids = [self.index.get(t, UNK_ID) for t in tokens]
        return [BOS_ID] * bos + ids + [EOS_ID] * eos

    def decode(self, ids: Iterable[int]) -> str:
        """Ids -> text, stopping at ``<eos>`` and dropping ``<pad>``/``<bos>``."""
        out = []
        for i in ids:
            if i == EOS_ID:
                break
            if i not in (PAD_ID, BOS_ID):
                out.append(self.tokens[i])
        return self.separator.join(out)

    def state_dict(self) -> dict:
        return {"tokens": self.tokens, "separator": self.separator}

    @classmethod
    def from_state(cls, state: dict) -> "Vocab":
        return cls(state["tokens"], state["separator"])
