"""Forecasting on real series: seqzoo's families beside what a forecaster compares against, on the same test
windows (rolling origin over each data set's test period).

    python scripts/bench_forecast.py --out logs/bench_forecast     # every packaged series, lstm, gru, s4d
    python scripts/bench_forecast.py --data co2 --models lstm,gru,mingru,s4d,mamba --max-time 00:00:05:00

For each data set (``configs/data/<name>.yaml`` with ``task=forecast``):

- ``naive`` (the last value) and ``seasonal naive`` (the last season), scored by seqzoo's own metrics;
- ``Holt-Winters``: statsmodels' exponential smoothing with an additive trend (and ``damped``: an additive
  damped trend) and an additive season of the data set's period when the history holds two of them, fitted
  afresh at every forecast origin on the history before it (at most ``--hw-history`` steps), its 80 %
  interval and CRPS from 200 simulated paths;
- each family: ``python train.py task=forecast data=<name> model=<family>`` as a user would run it, in its
  own process (``--threads`` torch threads, at most ``--max-time``), scored on its test windows.

Fit time is wall-clock: the whole training run for a family (start-up included), all origins' fits for
Holt-Winters. Writes ``results.json``, ``table.md`` and each run's folder (with its ``forecast.png``) under ``--out``;
a later invocation with other data sets adds them to the same files (a data set run again is replaced).
"""

import argparse
import json
import os
import re
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import results as results_file  # scripts/results.py: the benchmark's results file under docs/results/
import torch
from hydra.utils import instantiate

from seqzoo.cli import compose_config
from seqzoo.data.batch import collate
from seqzoo.tasks.forecast_metrics import CRPS_LEVELS, ForecastScores, naive, seasonal_naive

ROOT = Path(__file__).resolve().parents[1]
METRICS = ("mase", "smape", "crps", "coverage80")
BASELINES = ("naive", "seasonal naive", "Holt-Winters", "Holt-Winters, damped")


def test_windows(data: str):
    dm = instantiate(compose_config([f"data={data}", "task=forecast"]).data)
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


def holt_winters(dm, batch, history: int, damped: bool) -> dict:
    from statsmodels.tools.sm_exceptions import ConvergenceWarning
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    points, quantiles, start = [], [], time.perf_counter()
    for s, o in dm.splits["test"].pairs:
        y = dm.series[s].values[max(0, o - history) : o, 0]
        seasonal = "add" if dm.m > 1 and len(y) >= 2 * dm.m else None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.simplefilter("ignore", FutureWarning)  # statsmodels 0.15 renames random_state; 0.14 has only it
            fit = ExponentialSmoothing(
                y, trend="add", damped_trend=damped, seasonal=seasonal, seasonal_periods=dm.m if seasonal else None
            ).fit()
            paths = fit.simulate(dm.horizon, repetitions=200, error="add", anchor="end", random_state=0)  # (H, 200)
        points.append(fit.forecast(dm.horizon))
        quantiles.append(np.quantile(paths, CRPS_LEVELS, axis=1).T)  # (H, levels)
    seconds = time.perf_counter() - start
    point = torch.tensor(np.array(points), dtype=torch.float32).unsqueeze(-1)  # (B, H, 1)
    q = torch.tensor(np.array(quantiles), dtype=torch.float32).unsqueeze(2)  # (B, H, 1, levels)
    return {**score(point, batch, q), "seconds": round(seconds, 1)}


def family(data: str, model: str, out: Path, max_time: str, threads: int, overrides: list[str], folder: str) -> dict:
    run_dir = out / "runs" / data / folder
    args = [
        sys.executable,
        str(ROOT / "train.py"),
        "task=forecast",
        f"data={data}",
        f"model={model}",
        "logger=csv",
        f"++trainer.max_time={max_time}",
        f"hydra.run.dir={run_dir}",
        "overwrite=true",
        *overrides,
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


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default="electricity,co2,msft,airline")
    p.add_argument("--models", default="lstm,gru,s4d")
    p.add_argument("--max-time", default="00:00:10:00", help="trainer.max_time per family run")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--hw-history", type=int, default=2000, help="steps of history each Holt-Winters fit sees")
    p.add_argument("--override", action="append", default=[], help="extra train.py overrides for every family run")
    p.add_argument(
        "--tag", default="", help="added to each family's row name (and run folder), e.g. the overrides' gist"
    )
    p.add_argument("--out", default="logs/bench_forecast")
    results_file.add_arguments(p)
    args = p.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    existing = out / "results.json"  # several invocations (different families per data set) fill one table
    results = json.loads(existing.read_text()) if existing.exists() else {}
    for data in args.data.split(","):
        dm, batch = test_windows(data)
        rows = {
            **baselines(dm, batch),
            "Holt-Winters": holt_winters(dm, batch, args.hw_history, False),
            "Holt-Winters, damped": holt_winters(dm, batch, args.hw_history, True),
        }
        print(f"{data}: {len(batch['targets'])} test windows of {dm.horizon} steps; baselines {rows}", flush=True)
        for model in [m for m in args.models.split(",") if m]:
            name = f"{model}, {args.tag}" if args.tag else model
            folder = re.sub(r"[^A-Za-z0-9_.-]+", "_", name)  # a path Hydra's override grammar accepts
            rows[name] = family(data, model, out, args.max_time, args.threads, args.override, folder)
            print(f"{data} {name}: {rows[name]}", flush=True)
        results[data] = {**results.get(data, {}), **rows}  # --models "": the baselines again, the families kept
        (out / "results.json").write_text(json.dumps(results, indent=1))
        (out / "table.md").write_text(table(results))
    print(table(results))
    results_file.save(
        args,
        [
            {
                "data": data,
                "method": m,
                "MASE": r.get("mase"),
                "sMAPE %": r.get("smape"),
                "CRPS": r.get("crps"),
                "80 % coverage": r.get("coverage80"),
                "fit s": r.get("seconds"),
            }
            for data, methods in results.items()
            for m, r in methods.items()
        ],
        settings={"max_time": args.max_time, "threads": args.threads, "overrides": args.override},
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
