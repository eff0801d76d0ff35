"""Captioning real images offline (one-to-many), from scikit-learn's bundled 8x8 digits (1,797 images by
43 writers; UCI, CC BY 4.0):

- ``digits_caption``: one image -> its digit's word, spelled in characters ("seven").
- ``digit_strips``: 1-5 images side by side -> their words ("three one four"), variable-length captions.

Images are split into train/val/test first (stratified, fixed seed); strips are then built from the
images of their own split only, so no test image is ever seen in training.
"""

import numpy as np
import torch

from seqzoo.data.base import SequenceDataModule
from seqzoo.data.batch import CONDITION, TARGETS
from seqzoo.data.uea import stratified_split
from seqzoo.data.vocab import Vocab, tokenize
from seqzoo.errors import SeqzooError

WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """-> images (1797, 8, 8) scaled to [0, 1], labels (1797,)"""
    from sklearn.datasets import load_digits as sklearn_digits  # ships the data inside the wheel

    d = sklearn_digits()
    return (d.images / 16.0).astype(np.float32), d.target


def split_indices(labels: np.ndarray, val_fraction: float, test_fraction: float, seed: int) -> dict[str, np.ndarray]:
    rest, test = stratified_split(labels, test_fraction, seed)
    train, val = stratified_split(labels[rest], val_fraction / (1 - test_fraction), seed + 1)
    return {"train": rest[train], "val": rest[val], "test": test}


class DigitsCaptionDataModule(SequenceDataModule):
    """``max_digits=1``: one image, character captions; ``max_digits>1``: strips with word captions."""

    mapping = "one_to_many"
    sequence_targets = True

    def __init__(
        self,
        max_digits: int = 1,
        strips_per_split: dict | None = None,
        separator: str | None = None,
        val_fraction: float = 0.1,
        test_fraction: float = 0.2,
        seed: int = 0,
        batch_size: int = 64,
        num_workers: int = 0,
    ):
        super().__init__(batch_size, num_workers)
        if not 1 <= max_digits <= 10:
            raise SeqzooError(f"max_digits must be in 1..10, got {max_digits}")
        self.max_digits, self.val_fraction, self.test_fraction, self.seed = (
            max_digits,
            val_fraction,
            test_fraction,
            seed,
        )
        self.separator = separator if separator is not None else ("" if max_digits == 1 else " ")
        self.strips = {"train": 10_000, "val": 1000, "test": 2000, **(strips_per_split or {})}
        self.vocab: Vocab | None = None

    def examples(self, images: np.ndarray, labels: np.ndarray, split: str, rng: np.random.Generator):
        """-> images (N, 1, 8, 8 * max_digits), zero-padded on the right, and their captions"""
        if self.max_digits == 1:
            return images[:, None], [WORDS[y] for y in labels]
        n = self.strips[split]
        out = np.zeros((n, 1, 8, 8 * self.max_digits), dtype=np.float32)
        captions = []
        for i in range(n):
            picks = rng.choice(len(images), size=rng.integers(1, self.max_digits + 1))
            out[i, 0, :, : 8 * len(picks)] = np.concatenate(list(images[picks]), axis=1)
            captions.append(" ".join(WORDS[labels[p]] for p in picks))
        return out, captions

    def setup(self, stage: str | None = None) -> None:
        if self.splits:
            return
        images, labels = load_digits()
        rng = np.random.default_rng(self.seed)
        parts = {
            s: self.examples(images[idx], labels[idx], s, rng)
            for s, idx in split_indices(labels, self.val_fraction, self.test_fraction, self.seed).items()
        }
        if self.vocab is None:
            self.vocab = Vocab.build((tokenize(c, self.separator) for c in parts["train"][1]), self.separator)
        self.splits = {s: self.encode(list(x), caps) for s, (x, caps) in parts.items()}
        self.max_target_length = max(len(it[TARGETS]) for items in self.splits.values() for it in items)

    def encode(self, images: list, captions: list[str] | None = None) -> list[dict]:
        items = []
        for i, img in enumerate(images):
            img = torch.as_tensor(np.asarray(img, dtype=np.float32))
            img = img.view(1, *img.shape[-2:])  # (1, 8, W)
            if tuple(img.shape) != tuple(self.condition_shape):
                raise SeqzooError(
                    f"image {i} has shape {tuple(img.shape)}; this model reads images of shape {self.condition_shape}"
                )
            item = {CONDITION: img}
            if captions is not None:
                item[TARGETS] = torch.tensor(self.vocab.encode(tokenize(captions[i], self.separator), eos=True))
            items.append(item)
        return items

    @property
    def condition_shape(self) -> list[int]:
        return [1, 8, 8 * self.max_digits]

    @property
    def info(self) -> dict:
        return {
            "mapping": self.mapping,
            "condition_shape": self.condition_shape,
            "target_tokens": self.vocab.tokens,
            "target_separator": self.separator,
            "max_target_length": self.max_target_length,
        }

    def state_dict(self) -> dict:
        return {"vocab": self.vocab.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.vocab = Vocab.from_state(state["vocab"])
