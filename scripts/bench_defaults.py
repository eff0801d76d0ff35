"""Every model family with its defaults on every shipped classification set, beside 1-NN Euclidean and
MiniRocket: does ``python train.py data=uea data.name=<set> model=<family>`` work on data no one tuned for?

    python scripts/bench_defaults.py --out docs/bench_defaults          # every set in sktime's wheel x every family
    python scripts/bench_defaults.py --sets GunPoint,ArrowHead --models gru,transformer --jobs 2
    python scripts/bench_defaults.py --models fcn,inception,inception+ensemble=5     # a family with overrides

Each neural run is the real command, in its own process, with nothing but the set and the family chosen
(``--override`` adds keys, for experiments); its test accuracy is that of the checkpoint the run selects,
its wall-clock includes start-up. The baselines use the whole official training split (they need no
validation split); every column is scored on the same official test split. Families and sets are found by
listing configs/model/ and sktime's data folder. Published accuracies (``--published``, scripts/published_tsc.csv:
the mean of the authors' runs on the same splits, each row citing its file) are added as columns of their own.
Writes ``results.json`` and ``table.md`` under ``--out``.
"""

import argparse
import csv
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import results as results_file  # scripts/results.py: the benchmark's results file under docs/results/

from seqzoo import baselines
from seqzoo.data.ts_format import read_ts
from seqzoo.data.uea import available, sktime_data_dir
from seqzoo.models.registry import list_models

ROOT = Path(__file__).resolve().parents[1]


def classification_sets(root: Path) -> list[str]:
    """Sets whose .ts header declares class labels (the regression sets in the same folder are skipped)."""
    return [
        n for n in available(root) if read_ts(root / n / f"{n}_TRAIN.ts")[2].get("classlabel", "").startswith("true")
    ]


def run_family(
    name: str, model: str, out: Path, overrides: list[str], threads: int, reuse: bool = False, data: list[str] = ()
) -> dict:
    """``model`` is a family, or a family and its own overrides joined by '+': inception+ensemble=5. With
    ``reuse``, a run folder that already holds a finished run's metrics.json is read, not run again. ``data``:
    the overrides that choose the data (default: the UEA/UCR set ``name``)."""
    family, *own = model.split("+")
    run_dir = out / "runs" / name / model.replace("=", "_")  # '=' is Hydra's own in hydra.run.dir=
    if reuse and (run_dir / "metrics.json").is_file():
        metrics = json.loads((run_dir / "metrics.json").read_text())
        took = run_dir / "seconds.txt"  # absent: the run's own training and evaluation time, without start-up
        seconds = float(took.read_text()) if took.is_file() else metrics["seconds"]
        return outcome(metrics, seconds)
    args = [
        sys.executable,
        str(ROOT / "train.py"),
        *(data or ["data=uea", f"data.name={name}"]),
        f"model={family}",
        "logger=csv",
        f"hydra.run.dir={run_dir}",
        "overwrite=true",  # the benchmark's own folder: a run cut short is run again
        *overrides,
        *own,
    ]
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), PYTHONUNBUFFERED="1")
    start = time.perf_counter()
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    (run_dir).mkdir(parents=True, exist_ok=True)
    (run_dir / "output.log").write_text(done.stdout + done.stderr)
    if done.returncode != 0:
        return {"acc": None, "seconds": seconds, "error": (done.stderr.strip().splitlines() or ["?"])[-1]}
    metrics = json.loads((run_dir / "metrics.json").read_text())
    (run_dir / "seconds.txt").write_text(f"{seconds:.1f}\n")  # the whole command's wall-clock, for --reuse
    return outcome(metrics, seconds)


def outcome(metrics: dict, seconds: float) -> dict:
    """A finished run's test accuracy and time; an ensemble's also its members' mean accuracy."""
    out = {"acc": metrics["test"]["test/acc"], "seconds": seconds, "steps": metrics.get("global_step")}
    if "members" in metrics:
        out["members_acc"] = sum(m["test"]["test/acc"] for m in metrics["members"]) / len(metrics["members"])
    return out


def run_baseline(name: str, root: Path, method: str) -> dict:
    train, train_y, _ = read_ts(root / name / f"{name}_TRAIN.ts")
    test, test_y, _ = read_ts(root / name / f"{name}_TEST.ts")
    start = time.perf_counter()
    try:
        predicted = getattr(baselines, method)(train, train_y, test)
    except Exception as e:  # a baseline that cannot run (numba missing) leaves its column empty, says why
        return {"acc": None, "seconds": time.perf_counter() - start, "error": str(e)}
    return {"acc": float(np.mean(predicted == np.asarray(test_y))), "seconds": time.perf_counter() - start}


def published(path: Path, sets: list[str]) -> dict:
    """{set: {"<method> (published)": {"acc", "seconds": None, "source"}}} from the CSV's rows for ``sets``."""
    with path.open() as f:
        rows = list(csv.DictReader(line for line in f if not line.startswith("#")))
    out: dict = {}
    for r in rows:
        if r["set"] in sets:
            entry = {"acc": float(r["accuracy %"]) / 100, "seconds": None, "source": r["source"], "runs": r["runs"]}
            out.setdefault(r["set"], {})[f"{r['method']} (published)"] = entry
    return out


def cell(result: dict | None) -> str:
    if not result:
        return "-"
    if result["acc"] is None:
        return "failed"
    took = "" if result["seconds"] is None else f" ({result['seconds']:.0f} s)"
    return f"{100 * result['acc']:.1f} %{took}"


def table(results: dict, families: list[str], methods: list[str]) -> str:
    columns = families + methods
    lines = ["| set | " + " | ".join(columns) + " | best family - MiniRocket |", "|---" * (len(columns) + 2) + "|"]
    for name, row in results.items():
        best = max((row[f]["acc"] for f in families if row.get(f) and row[f]["acc"] is not None), default=None)
        ref = (row.get("minirocket") or {}).get("acc")
        gap = f"{100 * (best - ref):+.1f}" if best is not None and ref is not None else "-"
        lines.append(f"| {name} | " + " | ".join(cell(row.get(c)) for c in columns) + f" | {gap} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", help="comma-separated set names (default: every classification set shipped)")
    parser.add_argument("--models", help="comma-separated families (default: every configs/model/*.yaml)")
    parser.add_argument("--baselines", default="nearest_neighbour,minirocket", help="comma-separated; '' for none")
    parser.add_argument("--override", action="append", default=[], help="a config override for every neural run")
    parser.add_argument("--published", type=Path, default=ROOT / "scripts" / "published_tsc.csv", help="'' for none")
    parser.add_argument("--reuse", action="store_true", help="read runs already finished under --out, run the rest")
    parser.add_argument("--jobs", type=int, default=1, help="runs at once (threads are shared out among them)")
    parser.add_argument("--threads", type=int, help="threads per run (default: the cores shared out among --jobs)")
    parser.add_argument("--out", type=Path, default=Path("logs/bench_defaults"))
    results_file.add_arguments(parser)
    args = parser.parse_args()

    root = sktime_data_dir()
    sets = args.sets.split(",") if args.sets else classification_sets(root)
    families = [m for m in args.models.split(",") if m] if args.models is not None else list_models("encoder")
    methods = [m for m in args.baselines.split(",") if m]
    threads = args.threads or max(1, (os.cpu_count() or 1) // args.jobs)
    args.out.mkdir(parents=True, exist_ok=True)

    results = {name: {} for name in sets}
    for name in sets:
        for method in methods:
            results[name][method] = run_baseline(name, root, method)
            print(f"{name:<18}{method:<20}{cell(results[name][method])}", flush=True)
    jobs = [(name, family) for name in sets for family in families]
    with ThreadPoolExecutor(args.jobs) as pool:
        futures = {job: pool.submit(run_family, *job, args.out, args.override, threads, args.reuse) for job in jobs}
        for (name, family), future in futures.items():
            results[name][family] = future.result()
            print(f"{name:<18}{family:<20} {cell(results[name][family])}", flush=True)
    sources = []
    if args.published.name:
        for name, row in published(args.published, sets).items():
            results[name].update(row)
        methods += list(dict.fromkeys(m for row in results.values() for m in row if m.endswith("(published)")))
        sources = sorted(
            {
                f"{m}: {r['source']} (mean of {r['runs']} runs)"
                for row in results.values()
                for m, r in row.items()
                if "source" in r
            }
        )
    (args.out / "results.json").write_text(
        json.dumps({"overrides": args.override, "results": results}, indent=2) + "\n"
    )
    (args.out / "table.md").write_text(table(results, families, methods))
    print("\n" + table(results, families, methods))

    names = {"nearest_neighbour": "1-NN Euclidean", "minirocket": "MiniRocket"}
    results_file.save(
        args,
        [
            {
                "set": name,
                "method": names.get(m, m),
                "accuracy %": round(100 * r["acc"], 1),
                "seconds": None if r["seconds"] is None else round(r["seconds"]),
            }
            for name, methods_ in results.items()
            for m, r in methods_.items()
            if r.get("acc") is not None
        ]
        + [  # an ensemble's members one at a time: what averaging added
            {"set": name, "method": f"{m} (members' mean)", "accuracy %": round(100 * r["members_acc"], 1)}
            for name, methods_ in results.items()
            for m, r in methods_.items()
            if r.get("members_acc") is not None
        ],
        settings={"overrides": args.override, "jobs": args.jobs, "threads per run": threads},
        notes="Published figures, on the same official splits: " + "; ".join(sources) if sources else "",
    )


if __name__ == "__main__":
    main()
