"""One results file per benchmark: the rows a run measured, with the command, versions, machine and date that
make them a fact rather than a number. The docs' benchmark pages are rendered from these files
(scripts/docs_hooks.py), so a table in the docs is never typed by hand.

    {"benchmark": "bench_long",
     "runs": [{"label": "cpu", "command": "python scripts/bench_long.py ...", "date": "2026-11-26",
               "machine": "...", "versions": {"torch": "2.14.1", ...}, "settings": {...}, "notes": "...",
               "rows": [{"model": "lstm", "T": 64, "tokens/s": 115614}, ...]}]}

A run is replaced by the next run with the same label, so re-measuring is running the command again.
"""

import datetime
import json
import os
import platform
import shlex
import sys
from pathlib import Path

from seqzoo.atomic import write_text
from seqzoo.versions import versions

REQUIRED = ("label", "command", "date", "machine", "versions", "rows")


def machine(device: str = "cpu") -> str:
    """The hardware a figure was measured on, in words: CPU model and cores, or the GPU's name."""
    if device.startswith("cuda"):
        import torch

        props = torch.cuda.get_device_properties(0)
        return f"{props.name} ({props.total_memory / 2**30:.0f} GiB)"
    model = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [
            line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines() if line.startswith("model name")
        ]
        model = names[0] if names else model
    threads = os.environ.get("OMP_NUM_THREADS")
    return f"{model}, {os.cpu_count()} cores" + (f", OMP_NUM_THREADS={threads}" if threads else "")


def record(
    path: str | Path,
    label: str,
    rows: list[dict],
    *,
    device: str = "cpu",
    settings: dict | None = None,
    notes: str = "",
    command: str | None = None,
) -> dict:
    """Write (or replace) run ``label`` of the results file at ``path``; returns the run."""
    path = Path(path)
    data = json.loads(path.read_text()) if path.exists() else {"benchmark": path.stem, "runs": []}
    run = {
        "label": label,
        "command": command or shlex.join(["python", *sys.argv]),
        "date": datetime.date.today().isoformat(),
        "machine": machine(device),
        "versions": versions(),
        "settings": settings or {},
        "notes": notes,
        "rows": rows,
    }
    data["runs"] = [r for r in data["runs"] if r["label"] != label] + [run]
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text(path, json.dumps(data, indent=1) + "\n")
    return run


def load(path: str | Path) -> dict:
    """A results file, refused with the missing key named if a run lacks one."""
    data = json.loads(Path(path).read_text())
    for run in data.get("runs", []):
        missing = [k for k in REQUIRED if k not in run]
        if missing:
            raise ValueError(f"{path}: run {run.get('label')!r} lacks {', '.join(missing)}")
    return data


def add_arguments(parser) -> None:
    """``--results FILE --label NAME``: the benchmark's run recorded in its results file (docs/results/<name>.json)."""
    parser.add_argument(
        "--results", help="record this run's rows in this results file (e.g. docs/results/<benchmark>.json)"
    )
    parser.add_argument(
        "--label",
        default=None,
        help="the run's label in the results file (default: the device); a run with the same label is replaced",
    )


def save(args, rows: list[dict], device: str = "cpu", **kwargs) -> None:
    """Record ``rows`` when the command asked for ``--results``; say where."""
    if getattr(args, "results", None):
        run = record(args.results, args.label or device, rows, device=device, **kwargs)
        print(f"recorded {len(rows)} rows as run {run['label']!r} in {args.results}")
