"""Forecasting on real series: seqzoo's families beside what a forecaster compares against, on the same test
windows (rolling origin over each data set's test period).

    python scripts/bench_forecast.py --suite --models dlinear,gru   # thirteen shipped series, a rule per frequency
    python scripts/bench_forecast.py --data co2 --models lstm,gru,mingru,s4d,mamba --max-time 00:00:05:00

Data: ``--data`` names packaged data sets (``configs/data/<name>.yaml`` with ``task=forecast``, their own
windows); ``--suite`` takes the series in ``SUITE`` (shipped inside statsmodels, pmdarima and sktime, read from
their files), writes each to a CSV and brings it through ``data=series`` as a user would, with the context,
horizon, season and split of its frequency's rule (``RULES``: nothing is chosen per series).

For each data set:

- ``naive`` (the last value) and ``seasonal naive`` (the last season), scored by seqzoo's own metrics;
- the statistical forecasters of ``seqzoo.forecast_baselines`` (AutoETS, AutoARIMA, Theta, Holt-Winters and its
  damped form), fitted afresh at every forecast origin on the history before it (at most ``--history`` steps);
- each family: ``python train.py task=forecast <data> model=<family>`` as a user would run it, in its own
  process (``--threads`` torch threads, at most ``--max-time``), scored on its test windows.

Fit time is wall-clock: the whole training run for a family (start-up included), all origins' fits for a
statistical method. Writes ``results.json``, ``table.md`` and each run's folder (with its ``forecast.png``) under
``--out``; a later invocation adds to the same files (a method run again is replaced), and the summary (mean
MASE, its ratio to seasonal naive's, the worst series' ratio, mean ranks of MASE and CRPS) covers every data set
that has every method.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import results as results_file  # scripts/results.py: the benchmark's results file under docs/results/
import torch
from hydra.utils import instantiate

from seqzoo import forecast_baselines
from seqzoo.cli import compose_config
from seqzoo.data import packaged_series
from seqzoo.data.batch import collate
from seqzoo.tasks.forecast_metrics import ForecastScores, naive, seasonal_naive

ROOT = Path(__file__).resolve().parents[1]
METRICS = ("mase", "smape", "crps", "coverage80")
BASELINES = ("naive", "seasonal naive", *forecast_baselines.METHODS)

# one rule per frequency: the horizon H and season m; context max(2H, 2m); validation H steps; test the last
# max(2H, 10 %) steps; forecast origins every H/2 steps
RULES = {
    "yearly": (6, 1),
    "quarterly": (8, 4),
    "monthly": (18, 12),
    "weekly": (13, 52),
    "business-daily": (10, 5),
    "half-hourly": (48, 48),
}
# series shipped inside installed packages (seqzoo.data.packaged_series): reader, its value column, frequency
SUITE = {
    "sunspots": ("sunspots_yearly", "value", "yearly"),
    "nile": ("nile_yearly", "value", "yearly"),
    "lynx": ("lynx_yearly", "value", "yearly"),
    "ausbeer": ("ausbeer_quarterly", "value", "quarterly"),
    "woolyrnq": ("woolyrnq_quarterly", "value", "quarterly"),
    "uschange": ("uschange_consumption", "value", "quarterly"),
    "wineind": ("wineind_monthly", "value", "monthly"),
    "elecequip": ("elec_equip_monthly", "value", "monthly"),
    "elnino": ("elnino_monthly", "value", "monthly"),
    "airline": ("airline_passengers", "Passengers", "monthly"),
    "co2": ("co2_weekly", "co2", "weekly"),
    "msft": ("msft_prices", "Close", "business-daily"),
    "taylor": ("taylor_demand", "demand", "half-hourly"),
}


def suite_overrides(name: str, folder: Path) -> list[str]:
    """The series as a user's CSV (``time``, ``value``) and the ``data=series`` overrides of its frequency's rule."""
    reader, column, frequency = SUITE[name]
    frame = getattr(packaged_series, reader)()
    times = frame[next(c for c in frame.columns if c.lower() in ("time", "date"))]
    path = folder / f"{name}.csv"
    folder.mkdir(parents=True, exist_ok=True)
    frame.assign(time=times, value=frame[column])[["time", "value"]].to_csv(path, index=False)
    H, m = RULES[frequency]
    return [
        "data=series",
        f"data.path={path.resolve()}",
        "data.time=time",
        f"data.name={name}",
        f"data.context={max(2 * H, 2 * m)}",
        f"data.horizon={H}",
        f"data.season={m}",
        f"data.val_size={H}",
        f"data.test_size={max(2 * H, round(0.1 * len(frame)))}",
        f"data.eval_stride={max(1, H // 2)}",
        "data.missing=interpolate",  # co2's missing weeks
        "data.spacing=steps",  # trading days: rows are steps whatever their dates
    ]


def test_windows(overrides: list[str]):
    dm = instantiate(compose_config([*overrides, "task=forecast"]).data)
    dm.setup("fit")
    return dm, collate([dm.splits["test"][i] for i in range(len(dm.splits["test"]))])


def score(point, batch, q=None) -> dict:
    scores = ForecastScores(probabilistic=q is not None)
    scores.update(point, batch["targets"], batch["mase_scale"], q)
    return {k: round(float(v), 4) for k, v in scores.compute().items()}


def baselines(dm, batch) -> dict:
    K = batch["targets"].shape[-1]
    context = batch["inputs"][:, :, :K] * batch["scale"].unsqueeze(1) + batch["loc"].unsqueeze(1)  # (B, L, K)
    return {
        "naive": score(naive(context, dm.horizon), batch),
        "seasonal naive": score(seasonal_naive(context, dm.horizon, dm.m), batch),
    }


def statistical(dm, batch, method: str, history: int) -> dict:
    try:
        out = forecast_baselines.rolling(dm, method, history)
    except Exception as e:  # a method that cannot fit this series leaves its row failed, says why
        return {"error": f"{type(e).__name__}: {e}"[:200]}
    point = torch.tensor(out["point"], dtype=torch.float32).unsqueeze(-1)  # (B, H, 1)
    q = torch.tensor(out["quantiles"], dtype=torch.float32).unsqueeze(2)  # (B, H, 1, levels)
    return {**score(point, batch, q), "seconds": round(out["seconds"], 1)}


def family(data: str, data_overrides: list[str], model: str, name: str, out: Path, args) -> dict:
    """One training run as a user would start it; ``name`` is its row (and run folder)."""
    max_time, threads, overrides = args.max_time, args.threads, args.override
    run_dir = out / "runs" / data / re.sub(r"[^A-Za-z0-9_.-]+", "_", name)  # a path Hydra's override grammar accepts
    family_name, *own = model.split("+")  # a family and its own overrides: nbeats+model.width=64
    args = [
        sys.executable,
        str(ROOT / "train.py"),
        "task=forecast",
        *data_overrides,
        f"model={family_name}",
        "logger=csv",
        f"++trainer.max_time={max_time}",
        f"hydra.run.dir={run_dir}",
        "overwrite=true",
        *overrides,
        *own,
    ]
    start = time.perf_counter()
    done = subprocess.run(
        args, cwd=ROOT, env=dict(os.environ, OMP_NUM_THREADS=str(threads)), capture_output=True, text=True
    )
    seconds = round(time.perf_counter() - start, 1)
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "output.log").write_text(done.stdout + done.stderr)
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["?"])[-1], "seconds": seconds}
    test = json.loads((run_dir / "metrics.json").read_text())["test"]
    return {**{k: round(test[f"test/{k}"], 4) for k in METRICS if f"test/{k}" in test}, "seconds": seconds}


def table(results: dict) -> str:
    lines = []
    for data, rows in results.items():
        lines += [
            f"### {data}",
            "",
            "| method | MASE | sMAPE % | CRPS | 80 % coverage | fit time |",
            "|---|---|---|---|---|---|",
        ]
        for name, r in sorted(rows.items(), key=lambda kv: kv[0] not in BASELINES):  # the baselines first
            if "error" in r:
                lines.append(f"| {name} | failed: {r['error']} | | | | |")
                continue
            cells = [f"{r[k]:.3f}" if k in r else "-" for k in METRICS]
            lines.append(
                f"| {name} | {' | '.join(cells)} | {r['seconds']:.0f} s |"
                if "seconds" in r
                else f"| {name} | {' | '.join(cells)} | - |"
            )
        lines.append("")
    return "\n".join(lines)


def summary(results: dict) -> tuple[list[dict], str]:
    """Over the data sets where every method has a score: mean MASE, its ratio to seasonal naive's, the worst
    series' ratio to seasonal naive, and mean ranks (1 = best) of MASE and CRPS."""
    methods = sorted({m for rows in results.values() for m, r in rows.items() if "mase" in r})
    full = [d for d, rows in results.items() if all("mase" in rows.get(m, {}) for m in methods)]
    if not full or "seasonal naive" not in methods:
        return [], ""

    def ranks(metric: str) -> dict:
        out = {m: [] for m in methods}
        for d in full:
            scored = sorted((results[d][m].get(metric, np.inf), m) for m in methods)
            for i, (_, m) in enumerate(scored):
                out[m].append(i + 1)
        return {m: float(np.mean(v)) for m, v in out.items()}

    mase_rank, crps_rank = ranks("mase"), ranks("crps")
    snaive = np.array([results[d]["seasonal naive"]["mase"] for d in full])
    rows = []
    for m in methods:
        mase = np.array([results[d][m]["mase"] for d in full])
        rows.append(
            {
                "method": m,
                "mean MASE": round(float(mase.mean()), 3),
                "/ seasonal naive": round(float(mase.mean() / snaive.mean()), 3),
                "worst series / seasonal naive": round(float((mase / snaive).max()), 3),
                "mean rank MASE": round(mase_rank[m], 2),
                "mean rank CRPS": round(crps_rank[m], 2),
            }
        )
    rows.sort(key=lambda r: r["mean rank MASE"])
    head = list(rows[0])
    text = [f"### summary over {len(full)} series ({', '.join(full)})", "", "| " + " | ".join(head) + " |"]
    text += ["|---" * len(head) + "|"] + ["| " + " | ".join(str(r[k]) for k in head) + " |" for r in rows]
    return rows, "\n".join(text) + "\n"


def record(args, results: dict, **kwargs) -> None:
    """The rows of ``results`` (and their summary, as run "<label>-summary") in ``--results``; ``kwargs`` go to
    ``results.record`` (``command=`` and ``notes=`` when recording a run still under way)."""
    rows = [
        {
            "data": data,
            "method": m,
            "MASE": r.get("mase"),
            "sMAPE %": r.get("smape"),
            "CRPS": r.get("crps"),
            "80 % coverage": r.get("coverage80"),
            "fit s": r.get("seconds"),
            **({"error": r["error"]} if "error" in r else {}),
        }
        for data, methods in results.items()
        for m, r in methods.items()
    ]
    settings = {
        "max_time": args.max_time,
        "threads": args.threads,
        "overrides": args.override,
        "history": args.history,
        **({"rules": {f: {"horizon": h, "season": m} for f, (h, m) in RULES.items()}} if args.suite else {}),
    }
    if not args.results:
        return
    label = args.label or "cpu"
    results_file.record(args.results, label, rows, settings=settings, **kwargs)
    ranked = summary(results)[0]
    if ranked:
        results_file.record(args.results, f"{label}-summary", ranked, **kwargs)
    print(f"recorded {len(rows)} rows as run {label!r} (and its summary) in {args.results}")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default="electricity,co2,msft,airline", help="packaged data sets (configs/data/)")
    p.add_argument("--suite", nargs="?", const=",".join(SUITE), help="shipped series by the frequency rules (SUITE)")
    p.add_argument("--models", default="lstm,gru,s4d", help="families; family+key=value for a family's overrides")
    p.add_argument("--baselines", default=",".join(BASELINES), help="comma-separated; '' for none")
    p.add_argument("--max-time", default="00:00:10:00", help="trainer.max_time per family run")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--history", type=int, default=2000, help="steps of history each statistical fit sees")
    p.add_argument("--override", action="append", default=[], help="extra train.py overrides for every family run")
    p.add_argument(
        "--tag", default="", help="added to each family's row name (and run folder), e.g. the overrides' gist"
    )
    p.add_argument("--out", default="logs/bench_forecast")
    p.add_argument(
        "--record-only",
        metavar="COMMAND",
        help="run nothing: record --out's results.json (a run cut short or still going) in --results, noting COMMAND "
        "as the command that produced it",
    )
    p.add_argument("--notes", default="", help="the recorded run's notes (with --results)")
    results_file.add_arguments(p)
    args = p.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    existing = out / "results.json"  # several invocations (different families per data set) fill one table
    results = json.loads(existing.read_text()) if existing.exists() else {}
    if args.record_only:
        print(summary(results)[1] + "\n" + table(results))
        record(args, results, command=args.record_only, notes=args.notes)
        return 0
    data_sets = (
        {name: suite_overrides(name, out / "data") for name in args.suite.split(",")}
        if args.suite
        else {name: [f"data={name}"] for name in args.data.split(",")}
    )
    for data, data_overrides in data_sets.items():
        dm, batch = test_windows(data_overrides)
        rows = {}
        chosen = [b for b in args.baselines.split(",") if b]
        unknown = sorted(set(chosen) - set(BASELINES))
        if unknown:
            raise SystemExit(f"--baselines: {', '.join(unknown)} unknown; choose from {', '.join(BASELINES)}")
        simple = {k: v for k, v in baselines(dm, batch).items() if k in chosen}
        rows.update(simple)
        for method in (b for b in chosen if b in forecast_baselines.METHODS):
            rows[method] = statistical(dm, batch, method, args.history)
            print(f"{data} {method}: {rows[method]}", flush=True)
        print(f"{data}: {len(batch['targets'])} test windows of {dm.horizon} steps", flush=True)
        for model in [m for m in args.models.split(",") if m]:
            name = f"{model}, {args.tag}" if args.tag else model
            rows[name] = family(data, data_overrides, model, name, out, args)
            print(f"{data} {name}: {rows[name]}", flush=True)
        results[data] = {**results.get(data, {}), **rows}  # a method run again is replaced, the others kept
        (out / "results.json").write_text(json.dumps(results, indent=1))
        (out / "table.md").write_text(summary(results)[1] + "\n" + table(results))
    print(summary(results)[1] + "\n" + table(results))
    record(args, results, notes=args.notes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
