"""Reading a user's file so that whatever is wrong with it ends in one message naming the file, the line or
item and the problem: never a traceback from deep inside a parser, never a silent skip.

Numbers: NaN and inf are refused where they are found (file, sequence, step, channel), except where a data
set states a policy for missing values (UEA/UCR ``.ts`` files mark them ``?``: they become the training mean).
"""

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from seqzoo.errors import SeqzooError


def read_text(path: str | Path) -> str:
    """A UTF-8 text file, ``\\r\\n`` read as ``\\n``; bytes that are not UTF-8 are named with their line."""
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise SeqzooError(f"cannot read {path}: {e.strerror or e}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise SeqzooError(
            f"{path}:{line}: not UTF-8 text (byte {data[e.start : e.start + 1]!r} at offset {e.start}); "
            "convert the file, e.g. iconv -f latin1 -t utf-8"
        ) from None
    return text.replace("\r\n", "\n")


def text_lines(path: str | Path) -> Iterator[tuple[int, str]]:
    """(line number, line without its end) of ``read_text(path)``. Lines are split at ``\\n`` only, so the
    numbers are those an editor shows."""
    return ((n, line.rstrip("\r")) for n, line in enumerate(read_text(path).split("\n"), 1))


def check_finite(values: np.ndarray, where: str, missing_allowed: bool = False) -> None:
    """Refuse inf anywhere, and NaN unless ``missing_allowed``, naming the first one: ``where`` names the
    sequence; the step and channel are added."""
    bad = ~np.isfinite(values) if not missing_allowed else np.isinf(values)
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        at = f"step {index[0]}" + (f", channel {index[1]}" if len(index) > 1 else "")
        raise SeqzooError(
            f"{where}: {values[index]} at {at}; numeric inputs must be finite "
            + (
                "(NaN marks a missing value here; inf is not one)"
                if missing_allowed
                else "(mark padding by leaving steps out, not with NaN or inf)"
            )
        )
