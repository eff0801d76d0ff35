"""Inputs the model never saw are named, never answered silently (``seqzoo-predict``).

After the model's own preprocessing (the normalisation fitted on its training split), the values a network
reads are of order one. A value of 1e30, or one near float32's largest, either overflows to inf (refused: no
answer exists) or lies tens of thousands of standard deviations outside anything trained on, where a network
still answers confidently: "prediction=9 probability=0.97". Each row says how far outside its input lies
(``input_max_abs``: the largest |value| the model read), and rows beyond ``LIMIT`` are flagged (``outside``)
and counted on the console. An answer that is not a finite number is refused with the rows that gave it.
"""

import math

import torch

from seqzoo.data.batch import INPUTS
from seqzoo.errors import SeqzooError

LIMIT = 20.0  # |value| after the model's normalisation: 20 standard deviations of the training data


def input_ranges(names: list[str], items: list[dict]) -> list[float] | None:
    """The largest |value| each numeric input holds, after preprocessing; None for token or text inputs.
    Refuses inputs that are not finite after preprocessing (values beyond float32's range)."""
    if not items or not isinstance(items[0].get(INPUTS), torch.Tensor) or not items[0][INPUTS].is_floating_point():
        return None
    largest = [float(it[INPUTS].abs().max()) if it[INPUTS].numel() else 0.0 for it in items]
    bad = [n for n, v in zip(names, largest) if not math.isfinite(v)]
    if bad:
        raise SeqzooError(
            f"{len(bad)} sequence(s) hold values that are not finite after the model's normalisation "
            f"(first: {', '.join(map(str, bad[:3]))}): they are beyond float32's range of the data the model "
            "was trained on, so no answer exists. Check their units and scale"
        )
    return largest


def flag_rows(rows: list[dict], names: list[str], largest: list[float] | None) -> int:
    """Add ``input_max_abs`` and ``outside`` to every row; refuse rows whose answer is not finite. Returns how
    many rows lie outside the training range."""
    broken = [
        n for n, row in zip(names, rows) if any(isinstance(v, float) and not math.isfinite(v) for v in row.values())
    ]
    if broken:
        raise SeqzooError(
            f"the model's answer is not a finite number for {len(broken)} sequence(s) (first: "
            f"{', '.join(map(str, broken[:3]))}); their inputs lie outside what it can compute with. Nothing was "
            "written"
        )
    if largest is None:
        return 0
    for row, value in zip(rows, largest):
        row["input_max_abs"] = float(f"{value:.4g}")
        row["outside"] = value > LIMIT
    return sum(value > LIMIT for value in largest)


def fit_lengths(names: list[str], items: list[dict], limit: int | None, truncate: bool) -> int:
    """Inputs longer than the model can read (a Transformer's positions): refused with the limit, or cut to it
    with ``truncate=true``. Returns how many were cut."""
    if limit is None:
        return 0
    long = [i for i, it in enumerate(items) if len(it[INPUTS]) > limit]
    if long and not truncate:
        worst = max(len(items[i][INPUTS]) for i in long)
        raise SeqzooError(
            f"{len(long)} sequence(s) are longer than the {limit} steps this model can read (first: "
            f"{names[long[0]]}; the longest {worst}); give shorter ones, or add truncate=true to cut each to its "
            f"first {limit} steps"
        )
    for i in long:
        items[i][INPUTS] = items[i][INPUTS][:limit]
    return len(long)


def unknown_tokens(names: list[str], texts: list[str], items: list[dict], vocab) -> list[int] | None:
    """How many tokens of each text input the model's vocabulary does not hold (read as ``<unk>``); the first
    few are named on the console with their line. None for inputs that are not token ids."""
    from seqzoo.data.vocab import UNK_ID

    if vocab is None or not items or items[0][INPUTS].is_floating_point():
        return None
    counts = [int((it[INPUTS] == UNK_ID).sum()) for it in items]
    if sum(counts):
        shown = []
        for line, (name, text, n) in enumerate(zip(names, texts, counts), 1):
            if n and len(shown) < 5:
                unseen = sorted({t for t in vocab.split(text) if t not in vocab.index})
                shown.append(f"line {line} ({name}): {', '.join(repr(t) for t in unseen[:5])}")
        print(
            f"seqzoo: warning: {sum(counts)} token(s) in {sum(c > 0 for c in counts)} input(s) are not in the model's "
            f"vocabulary and are read as <unk> (column unknown_tokens): " + "; ".join(shown)
        )
    return counts
