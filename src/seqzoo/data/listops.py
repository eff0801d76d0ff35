"""ListOps (Nangia & Bowman 2018) as Long Range Arena generates it (Tay et al. 2021, "Long Range Arena: A
Benchmark for Efficient Transformers"): nested list operations on digits, read as tokens, classified by their
value (many-to-one, ten classes).

    [MAX 4 3 [MIN 2 3 ] 1 0 [MED 1 5 8 9 2 ] ]   -> 5

The generator follows LRA's rules: a node is a digit (0-9) with probability 0.75 (always at depth
``max_depth``), else one of MAX, MIN, MED (the median, rounded down) and SM (the sum modulo 10) over 2 to
``max_args`` children; a tree is kept when its length (a digit counts 1, an operator 2: its token and its
closing bracket) lies strictly between ``min_length`` and ``max_length``, and every expression is unique across
the splits. LRA: depth 10, 10 arguments, lengths 500-2,000, 96,000 / 2,000 / 2,000 examples. Where we differ: the
closing brackets are tokens (an early LRA tokenisation dropped them, which made the task ill-posed) and the
tuple nesting's parentheses of LRA's text file are not written (they carry nothing the brackets do not).

Generation is seeded and, in pure Python, slow at full size (most trees are far too short or too long); each
split is written once to ``cache_dir`` under a name that holds every setting, and read back from there.
"""

import hashlib
import json
import random
from pathlib import Path

import numpy as np
import torch

from seqzoo.atomic import atomic_open
from seqzoo.data.base import SequenceDataModule
from seqzoo.data.batch import INPUTS, TARGETS
from seqzoo.errors import SeqzooError

OPERATORS = ("[MAX", "[MIN", "[MED", "[SM")
CLOSE = "]"
VOCAB = ["<pad>", *map(str, range(10)), *OPERATORS, CLOSE]  # id 0 pads
IDS = {t: i for i, t in enumerate(VOCAB)}
LEAF = 0.75  # LRA: a random draw above VALUE_P = 0.25 makes a digit


def apply(op: str, values: list[int]) -> int:
    if op == "[MAX":
        return max(values)
    if op == "[MIN":
        return min(values)
    if op == "[MED":
        return int(np.median(values))
    return sum(values) % 10  # [SM


def tree(rng: random.Random, depth: int, max_depth: int, max_args: int, out: list[str]) -> int:
    """Append one subtree's tokens to ``out``; returns its value."""
    if depth >= max_depth or rng.random() < LEAF:
        digit = rng.randrange(10)
        out.append(str(digit))
        return digit
    op = rng.choice(OPERATORS)
    out.append(op)
    values = [tree(rng, depth + 1, max_depth, max_args, out) for _ in range(rng.randint(2, max_args))]
    out.append(CLOSE)
    return apply(op, values)


def evaluate(tokens: list[str]) -> int:
    """The value of a token sequence, read left to right with a stack (the reference for ``tree``'s values)."""
    stack: list[list] = [[]]
    for t in tokens:
        if t in OPERATORS:
            stack.append([t])
        elif t == CLOSE:
            op, *values = stack.pop()
            stack[-1].append(apply(op, values))
        else:
            stack[-1].append(int(t))
    (value,) = stack[0]
    return value


def generate(n: int, seed: int, max_depth: int, max_args: int, min_length: int, max_length: int, tries: int):
    """n distinct expressions with min_length < length < max_length -> (token lists, values)."""
    rng, seen, examples = random.Random(seed), set(), []
    for _ in range(tries):
        out: list[str] = []
        value = tree(rng, 1, max_depth, max_args, out)
        if min_length < len(out) < max_length and (key := " ".join(out)) not in seen:
            seen.add(key)
            examples.append((out, value))
            if len(examples) == n:
                return examples
    raise SeqzooError(
        f"ListOps: {len(examples)} of {n} expressions of length {min_length}-{max_length} found in {tries:,} "
        "trees; widen data.min_length / data.max_length or ask for fewer examples"
    )


class ListOpsDataModule(SequenceDataModule):
    mapping = "many_to_one"

    def __init__(
        self,
        n_train: int = 96_000,
        n_val: int = 2000,
        n_test: int = 2000,
        min_length: int = 500,
        max_length: int = 2000,
        max_depth: int = 10,
        max_args: int = 10,
        seed: int = 0,
        cache_dir: str | None = "data/listops",
        batch_size: int = 32,
        num_workers: int = 0,
        bucket_by_length: bool = True,
    ):
        super().__init__(batch_size, num_workers, bucket_by_length)
        if not 1 <= min_length < max_length - 1 or max_depth < 1 or max_args < 2:
            raise SeqzooError(
                f"ListOps needs 1 <= min_length < max_length - 1, max_depth >= 1 and max_args >= 2; got "
                f"min_length={min_length}, max_length={max_length}, max_depth={max_depth}, max_args={max_args}"
            )
        self.sizes = {"train": n_train, "val": n_val, "test": n_test}
        self.settings = dict(
            min_length=min_length, max_length=max_length, max_depth=max_depth, max_args=max_args, seed=seed
        )
        self.cache_dir = Path(cache_dir) if cache_dir else None

    def cache_file(self) -> Path | None:
        if self.cache_dir is None:
            return None
        key = hashlib.sha1(json.dumps({**self.settings, **self.sizes}, sort_keys=True).encode()).hexdigest()[:12]
        return self.cache_dir / f"listops_{key}.npz"

    def examples(self) -> dict[str, tuple[list[np.ndarray], np.ndarray]]:
        """{split: (token id arrays, values)}, generated once (one stream, so no split repeats another)."""
        path = self.cache_file()
        if path is not None and path.is_file():
            with np.load(path) as f:
                return {s: (np.split(f[f"{s}_ids"], f[f"{s}_ends"][:-1]), f[f"{s}_values"]) for s in self.sizes}
        s = self.settings
        total = sum(self.sizes.values())
        found = generate(
            total, s["seed"], s["max_depth"], s["max_args"], s["min_length"], s["max_length"], tries=2000 * total
        )
        out, start = {}, 0
        for split, n in self.sizes.items():
            part = found[start : start + n]
            start += n
            out[split] = (
                [np.array([IDS[t] for t in tokens], np.int16) for tokens, _ in part],
                np.array([v for _, v in part]),
            )
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            arrays = {}
            for split, (ids, values) in out.items():
                arrays[f"{split}_ids"] = np.concatenate(ids) if ids else np.zeros(0, np.int16)
                arrays[f"{split}_ends"] = np.cumsum([len(a) for a in ids])
                arrays[f"{split}_values"] = values
            with atomic_open(path, "wb") as f:  # whole or absent; a temporary name of its own per writer, so two
                np.savez_compressed(f, **arrays)  # runs making the same setting at once both end with one whole file
        return out

    def setup(self, stage: str | None = None) -> None:
        if self.splits:
            return
        for split, (ids, values) in self.examples().items():
            self.splits[split] = [
                {INPUTS: torch.from_numpy(a.astype(np.int64)), TARGETS: torch.tensor(int(v))}
                for a, v in zip(ids, values)
            ]

    @property
    def info(self) -> dict:
        return {
            "mapping": self.mapping,
            "input_vocab_size": len(VOCAB),
            "num_classes": 10,
            "class_names": [str(d) for d in range(10)],
            "max_length": self.settings["max_length"],
        }

    def encode(self, raw: list) -> list[dict]:
        """Expressions as text ("[MAX 4 [MIN 2 3 ] ]") or token lists -> items."""
        items = []
        for r in raw:
            tokens = r.split() if isinstance(r, str) else list(r)
            unknown = sorted({t for t in tokens if t not in IDS or t == VOCAB[0]})
            if unknown:
                raise SeqzooError(f"ListOps tokens are {' '.join(VOCAB[1:])}; got {', '.join(map(repr, unknown))}")
            items.append({INPUTS: torch.tensor([IDS[t] for t in tokens], dtype=torch.long)})
        return items
