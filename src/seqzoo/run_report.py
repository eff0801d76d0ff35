"""What a finished run reports: the closing table on the console and the machine-readable metrics.json."""

import json
from pathlib import Path

from seqzoo.atomic import write_text
from seqzoo.versions import versions


def write_json(path: Path, obj) -> None:
    write_text(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")


def write_metrics(path: Path, metrics: dict) -> None:
    """metrics.json, with the versions of the packages that made it."""
    write_json(path, {**metrics, "versions": versions()})


def scalars(metrics: dict) -> dict:
    return {k: float(v) for k, v in metrics.items()}


def print_table(title: str, rows: dict[str, dict]) -> None:
    """The closing table of a run: one line per metric, one column per split."""
    names = sorted({k.split("/", 1)[-1] for r in rows.values() for k in r})
    splits, w = list(rows), max([12, *(len(n) + 2 for n in names)])  # forecasting's baseline names are long
    print(f"\n{title}\n" + f"{'metric':<{w}}" + "".join(f"{s:>12}" for s in splits))
    for n in names:
        cells = [rows[s].get(f"{s}/{n}") for s in splits]
        print(f"{n:<{w}}" + "".join(f"{c:>12.4f}" if c is not None else f"{'-':>12}" for c in cells))
