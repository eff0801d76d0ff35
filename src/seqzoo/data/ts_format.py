"""Reader for the ``.ts`` format of the UEA/UCR time-series archives (and of sktime's shipped copies).

A header of ``@key value`` lines, then ``@data``; each line is one series: channels separated by ``:``,
values by ``,``, the label last. ``?`` marks a missing value (read as NaN). Timestamped series,
``(t, v)`` pairs, are not supported.
"""

from pathlib import Path

import numpy as np

from seqzoo.errors import SeqzooError


def read_ts(path: str | Path) -> tuple[list[np.ndarray], list[str], dict[str, str]]:
    """-> series, each (T, C) float32; labels as strings; the header (``classlabel``, ``dimensions``, ...)."""
    header, series, labels, in_data = {}, [], [], False
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if not in_data:
                key, _, value = line[1:].partition(" ")
                if line.lower() == "@data":
                    in_data = True
                elif line.startswith("@"):
                    header[key.lower()] = value.strip()
                continue
            if "(" in line:
                raise SeqzooError(f"{path}:{number}: timestamped .ts series are not supported")
            *channels, label = line.split(":")
            try:
                values = [np.array([np.nan if v == "?" else float(v) for v in ch.split(",")]) for ch in channels]
            except ValueError as e:
                raise SeqzooError(f"{path}:{number}: not a .ts data line ({e})") from None
            if len({len(v) for v in values}) != 1:
                raise SeqzooError(f"{path}:{number}: channels of one series have different lengths")
            series.append(np.stack(values, axis=1).astype(np.float32))  # (T, C)
            labels.append(label.strip())
    if not in_data or not series:
        raise SeqzooError(f"{path} holds no @data section with series; is it a .ts file of the UEA/UCR archive?")
    return series, labels, header
