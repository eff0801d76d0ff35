"""Reader for the ``.ts`` format of the UEA/UCR time-series archives (and of sktime's shipped copies).

A header of ``@key value`` lines, then ``@data``; lines starting with ``#`` or ``%`` are comments (sktime's
UnitTest opens with ``%``); each line is one series: channels separated by ``:``,
values by ``,``, the label last. ``?`` marks a missing value (read as NaN). Timestamped series,
``(t, v)`` pairs, are not supported.
"""

from pathlib import Path

import numpy as np

from seqzoo.data.reading import check_finite, text_lines
from seqzoo.errors import SeqzooError


def read_ts(path: str | Path, missing_allowed: bool = True) -> tuple[list[np.ndarray], list[str], dict[str, str]]:
    """-> series, each (T, C) float32; labels as strings; the header (``classlabel``, ``dimensions``, ...).
    Missing values (``?``, NaN) are read as NaN, or refused where not ``missing_allowed``; inf always is."""
    header, series, labels, in_data = {}, [], [], False
    for number, line in text_lines(path):
        line = line.strip()
        if not line or line.startswith(("#", "%")):
            continue
        if not in_data:
            key, _, value = line[1:].partition(" ")
            if line.lower() == "@data":
                in_data = True
            elif line.startswith("@"):
                header[key.lower()] = value.strip()
            else:
                raise SeqzooError(
                    f"{path}:{number}: expected an @key header line or @data before the series, got {line[:60]!r}"
                )
            continue
        if "(" in line:
            raise SeqzooError(f"{path}:{number}: timestamped .ts series are not supported")
        *channels, label = line.split(":")
        try:
            values = [np.array([np.nan if v.strip() == "?" else float(v) for v in ch.split(",")]) for ch in channels]
        except ValueError as e:
            raise SeqzooError(f"{path}:{number}: not a .ts data line ({e})") from None
        if not values or len({len(v) for v in values}) != 1:
            raise SeqzooError(f"{path}:{number}: expected channels of equal length separated by ':' and the label last")
        series.append(np.stack(values, axis=1).astype(np.float32))  # (T, C)
        check_finite(series[-1], f"{path}:{number}", missing_allowed)
        labels.append(label.strip())
    if len({s.shape[1] for s in series}) > 1:
        first = next(i for i, s in enumerate(series) if s.shape[1] != series[0].shape[1])
        raise SeqzooError(
            f"{path}: series {first + 1} has {series[first].shape[1]} channels, the first has {series[0].shape[1]}"
        )
    if not in_data or not series:
        raise SeqzooError(f"{path} holds no @data section with series; is it a .ts file of the UEA/UCR archive?")
    return series, labels, header
