"""ListOps (Long Range Arena's generator, made offline by ``data=listops``): every family at one parameter
budget under one preset, test accuracy side by side.

    python scripts/bench_listops.py --models transformer,lru                 # experiment=listops_cpu
    python scripts/bench_listops.py --preset listops --models s4d,lru,mamba2 # LRA's size, for a GPU
    python scripts/bench_listops.py --models lru --seeds 0,1,2 --results docs/results/bench_listops.json

Each run is the real command (``python train.py experiment=<preset> model=<family> seed=<s>``) in its own
process; its accuracy is that of the checkpoint the run selects, on the preset's test split. The preset fixes the
parameter budget (``model.target_params``) and the time limit, so families are compared at one size and one
budget of wall-clock: run them under the same load. Published full-size figures for orientation: S4 59.6 %,
S4D 60.5 %, LRU 60.2 %, S5 62.2 %, Transformers 16-37 % (LRA, lengths 500-2,000); guessing the most frequent
answer scores about 17 %.
"""

import argparse
import json
import sys
from pathlib import Path

import results as results_file  # scripts/results.py: the benchmark's results file under docs/results/
from bench_defaults import run_family


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", default="listops_cpu", help="an experiment= preset of ListOps")
    p.add_argument("--models", default="transformer,lru", help="families; family+key=value for a family's overrides")
    p.add_argument("--seeds", default="0")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--override", action="append", default=[], help="extra train.py overrides for every run")
    p.add_argument("--reuse", action="store_true", help="read finished runs' metrics.json instead of running again")
    p.add_argument("--out", default="logs/bench_listops")
    results_file.add_arguments(p)
    args = p.parse_args(argv)
    out, rows = Path(args.out), []
    for model in args.models.split(","):
        for seed in args.seeds.split(","):
            run = run_family(
                f"{args.preset}-seed{seed}",
                model,
                out,
                [f"seed={seed}", *args.override],
                args.threads,
                args.reuse,
                data=[f"experiment={args.preset}"],
            )
            acc = run.get("acc")
            row = {
                "model": model,
                "seed": int(seed),
                "test accuracy %": None if acc is None else round(100 * acc, 1),
                "steps": run.get("steps"),
                "wall-clock s": round(run["seconds"]),
                **({"error": run["error"]} if "error" in run else {}),
            }
            rows.append(row)
            print(json.dumps(row), flush=True)
    if args.results:
        settings = {"preset": args.preset, "threads": args.threads, "overrides": args.override}
        results_file.record(args.results, args.label or args.preset, rows, settings=settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
