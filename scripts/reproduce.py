"""Reproduce the synthetic and MNIST rows of Bai, Kolter & Koltun 2018 (Table 1) for every model family.

    python scripts/reproduce.py --scale ci      # minutes: tiny data, 2 epochs (the test suite's smoke test)
    python scripts/reproduce.py --scale cpu     # under an hour on 2 CPU cores: shortened runs
    python scripts/reproduce.py --scale paper   # the presets as they are: the paper's setting, for a GPU
    python scripts/reproduce.py --scale paper --rows adding_t600 --models tcn,lstm --override trainer=gpu
    python scripts/reproduce.py --scale cpu --mnist-root data      # MNIST rows need the files (or --download)
    python scripts/reproduce.py --scale cpu --gather-only          # rebuild table and plots from finished runs
    python scripts/reproduce.py --scale cpu --rows adding_t600 --tune 20 --seeds 3   # tuned, mean +- std of 3 seeds
    python scripts/reproduce.py --scale cpu --rows adding_t600 --tune 20 --seeds 3 --resume  # go on after a stop

Each row is one Hydra multirun of ``train.py`` over the model families (``experiment=bai2018/<task>``, the
family's shape from ``configs/experiment_model/``). The script gathers every run's metrics.json and CSV log
and writes, under ``--out``: ``table.md`` (our figures beside the paper's), ``results.json`` and one
learning-curve PNG per row (validation loss against training step, every family on one axis). A run that
did less than the paper's setting (fewer epochs or sequences at a smaller scale, or stopped by the time
limit) is marked cut short, with what it did; a row whose data is missing is marked not run, with why.

``--tune N`` gives every family the same tuning budget first: an Optuna study of N trials
(``seqzoo-tune tune=bai2018``: learning rate, clipping, dropout) on the row's validation split, under
``<out>/tune/<row>/<family>/``; the final runs use the best trial's settings, which the table lists.
``--seeds K`` runs each family K times (seeds 0 .. K-1, ``<out>/runs/<row>/<family>/seed<k>/``) and reports
mean +- standard deviation.
"""

import argparse
import csv
import json
import math
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import results as results_file  # scripts/results.py: the benchmark's results file under docs/results/
from hydra.utils import get_class
from omegaconf import OmegaConf

from seqzoo.cli import compose_config
from seqzoo.errors import SeqzooError
from seqzoo.models.registry import list_models
from seqzoo.train import make

ROOT = Path(__file__).resolve().parents[1]
FAMILIES = list_models("encoder")  # every family in configs/model/


@dataclass
class Row:
    """One row of the paper's table: a preset, the overrides that pick the row, its metric, the paper's figures."""

    name: str
    experiment: str
    overrides: list[str]
    metric: str  # key in metrics.json's test section
    label: str  # how the table names it
    higher_is_better: bool = False
    scale_by: float = 1.0  # accuracy is stored as a fraction; the paper prints percent
    paper: dict = field(default_factory=dict)  # Table 1 of arXiv:1803.01271; empty: the paper plots this row only
    baseline: float | None = None  # the loss of a model that remembers nothing (drawn on the curves)


ROWS = {
    "adding_t200": Row(
        "Adding problem T=200", "bai2018/adding", ["data.length=200"], "mse", "MSE (lower is better)", baseline=1 / 6
    ),
    "adding_t400": Row(
        "Adding problem T=400", "bai2018/adding", ["data.length=400"], "mse", "MSE (lower is better)", baseline=1 / 6
    ),
    "adding_t600": Row(
        "Adding problem T=600",
        "bai2018/adding",
        ["data.length=600"],
        "mse",
        "MSE (lower is better)",
        baseline=1 / 6,
        paper={"lstm": 0.164, "gru": 5.3e-5, "rnn": 0.177, "tcn": 5.8e-5},
    ),
    "copy_memory_t500": Row(
        "Copy memory T=500",
        "bai2018/copy_memory",
        ["data.blank_length=500"],
        "loss",
        "cross-entropy (lower is better)",
        baseline=10 * math.log(8) / 520,
    ),
    "copy_memory_t1000": Row(
        "Copy memory T=1000",
        "bai2018/copy_memory",
        ["data.blank_length=1000"],
        "loss",
        "cross-entropy (lower is better)",
        paper={"lstm": 0.0204, "gru": 0.0197, "rnn": 0.0202, "tcn": 3.5e-5},
        baseline=10 * math.log(8) / 1020,
    ),
    "seq_mnist": Row(
        "Sequential MNIST",
        "bai2018/seq_mnist",
        ["data.permute=false"],
        "acc",
        "accuracy % (higher is better)",
        True,
        100.0,
        {"lstm": 87.2, "gru": 96.2, "rnn": 21.5, "tcn": 99.0},
    ),
    "permuted_mnist": Row(
        "Permuted MNIST",
        "bai2018/seq_mnist",
        ["data.permute=true"],
        "acc",
        "accuracy % (higher is better)",
        True,
        100.0,
        {"lstm": 85.7, "gru": 87.3, "rnn": 25.3, "tcn": 97.2},
    ),
}

# What each scale changes in a preset, per task. ``paper`` changes nothing; ``cpu`` keeps every sequence length
# (the point of these tasks) but trains on fewer sequences for fewer epochs; ``ci`` only proves the pipeline.
SCALES = {
    "paper": {},
    "cpu": {
        "bai2018/adding": [
            "data.n_train=6400",
            "data.n_val=500",
            "data.n_test=1000",
            "trainer.max_epochs=4",
            "++trainer.val_check_interval=0.5",
        ],
        "bai2018/copy_memory": ["data.n_train=3200", "data.n_val=200", "data.n_test=1000", "trainer.max_epochs=8"],
        "bai2018/seq_mnist": ["trainer.max_epochs=1", "++trainer.limit_train_batches=100"],
    },
    "ci": {
        "bai2018/adding": ["data.n_train=48", "data.n_val=16", "data.n_test=16", "data.batch_size=16"],
        "bai2018/copy_memory": ["data.n_train=48", "data.n_val=16", "data.n_test=16", "data.batch_size=16"],
        "bai2018/seq_mnist": ["data.n_val=16", "data.batch_size=16"],
    },
}
SCALE_TRAINER = {
    "paper": [],
    "cpu": ["++trainer.max_time=00:00:08:00"],
    "ci": [
        "trainer.max_epochs=2",
        "++trainer.limit_train_batches=2",
        "++trainer.limit_val_batches=1",
        "++trainer.limit_test_batches=1",
        "trainer.accelerator=cpu",
    ],
}
MNIST = "bai2018/seq_mnist"  # the rows that need the MNIST files


def row_overrides(key: str, scale: str, extra: list[str], mnist: list[str]) -> list[str]:
    row = ROWS[key]
    return [
        f"experiment={row.experiment}",
        *row.overrides,
        *SCALES[scale].get(row.experiment, []),
        *SCALE_TRAINER[scale],
        *(mnist if row.experiment == MNIST else []),
        *extra,
    ]


def missing_data(overrides: list[str]) -> str | None:
    """Why a row's data cannot be loaded (e.g. MNIST not downloaded), or None when it can."""
    cfg = compose_config(overrides, output_dir=".")
    try:
        make(cfg.data).prepare_data()
    except SeqzooError as e:
        return str(e)
    return None


def logged(args: list[str], log_path: Path) -> int:
    """Run a command with its output in ``log_path``; -> its exit status."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "w") as log:
        log.write(" ".join(args[1:]) + "\n")
        log.flush()
        return subprocess.run(args, check=False, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT).returncode


def run_row(
    key: str, overrides: list[str], models: list[str], out: Path, seeds: int = 1, tuned: dict | None = None
) -> None:
    """One Hydra multirun over the families (or, with seeds or tuned settings, one per family over the seeds);
    logs in <out>/runs/<row>/."""
    sweep = out / "runs" / key
    if seeds == 1 and not tuned:
        args = [
            sys.executable,
            str(ROOT / "train.py"),
            "-m",
            *overrides,
            f"model={','.join(models)}",
            f"hydra.sweep.dir={sweep}",
            "hydra.sweep.subdir=${hydra:runtime.choices.model}",
        ]
        if logged(args, sweep / "multirun.log"):
            print(f"  {key}: the multirun failed; see {sweep / 'multirun.log'}")
        return
    for family in models:
        todo = [k for k in range(seeds) if not (sweep / family / f"seed{k}" / "metrics.json").exists()]  # --resume
        if not todo:
            continue
        args = [
            sys.executable,
            str(ROOT / "train.py"),
            "-m",
            *overrides,
            f"model={family}",
            *(tuned or {}).get(family, []),
            f"seed={','.join(map(str, todo))}",
            f"hydra.sweep.dir={sweep / family}",
            "hydra.sweep.subdir=seed${seed}",
            *(["overwrite=true"] if (sweep / family).exists() else []),
        ]  # an interrupted seed starts again
        if logged(args, sweep / family / "multirun.log"):
            print(f"  {key} {family}: the multirun failed; see {sweep / family / 'multirun.log'}")


def tune_row(key: str, overrides: list[str], models: list[str], out: Path, trials: int) -> dict:
    """The same budget of ``trials`` Optuna trials for every family -> {family: the best trial's overrides}."""
    best = {}
    for family in models:
        root = out / "tune" / key
        args = [
            sys.executable,
            "-m",
            "seqzoo.tune",
            "tune=bai2018",
            f"tune.n_trials={trials}",
            f"tune.root={root}",
            f"tune.study={family}",
            *overrides,
            f"model={family}",
        ]
        print(f"  {key} {family}: tuning ({trials} trials)", flush=True)
        if logged(args, root / f"{family}.log"):
            print(f"  {key} {family}: tuning failed; see {root / f'{family}.log'}")
            continue
        best[family] = best_settings(root, family)
    return best


def study(root: Path, family: str):
    """The Optuna study ``seqzoo-tune`` stored in ``<root>/<family>/study.db``, or None without one (then
    optuna, the ``tune`` extra, is not needed)."""
    if not (root / family / "study.db").exists():
        return None
    import optuna

    return optuna.load_study(study_name=family, storage=f"sqlite:///{root / family / 'study.db'}")


def tuning_seconds(root: Path, family: str) -> float:
    """The wall-clock time of every trial of the family's study, pruned and failed ones included."""
    return round(sum(t.duration.total_seconds() for t in study(root, family).trials if t.duration is not None), 1)


def best_settings(root: Path, family: str) -> list[str] | None:
    """The overrides of the best trial of the family's study, or None without a finished study."""
    found = study(root, family)
    if found is None or not any(t.state.name == "COMPLETE" for t in found.trials):
        return None
    return found.best_trial.user_attrs["overrides"]


def curve(run: Path) -> list[tuple[int, float]]:
    """(step, val/loss) at every validation during training, from the run's CSV log. The last val/loss row
    there is train()'s closing re-validation of the best checkpoint, not a point on the curve."""
    path = run / "csv" / "metrics.csv"
    if not path.exists():
        return []
    with open(path) as f:
        points = [(int(r["step"]), float(r["val/loss"])) for r in csv.DictReader(f) if r.get("val/loss")]
    return points[:-1]


def shortfall(run_cfg, paper_cfg, epochs_done: int) -> list[str]:
    """How a run fell short of the paper's setting; empty for a full run."""
    notes = []
    planned = run_cfg.trainer.max_epochs
    if epochs_done < planned:
        notes.append(f"stopped by the time limit after {epochs_done} of {planned} epochs")
    if planned < paper_cfg.trainer.max_epochs:
        notes.append(f"{planned} of {paper_cfg.trainer.max_epochs} epochs")
    n_run, n_paper = run_cfg.data.get("n_train"), paper_cfg.data.get("n_train")
    if n_run is not None and n_paper is not None and n_run < n_paper:
        notes.append(f"{n_run:,} of {n_paper:,} training sequences")
    limit = run_cfg.trainer.get("limit_train_batches")
    if limit is not None and limit != 1.0:
        notes.append(f"{limit} batches per epoch")
    return notes


def gather(key: str, sweep: Path, models: list[str], extra: list[str]) -> dict:
    """Per family: the test figure, epochs, parameters, whether the run was full, and its curve."""
    results = {}
    for family in models:
        seeded = sorted((sweep / family).glob("seed*/metrics.json"))
        if seeded:
            results[family] = over_seeds([gather_run(key, r.parent, family, extra) for r in seeded])
            continue
        results[family] = gather_run(key, sweep / family, family, extra)
    return results


def over_seeds(runs: list[dict]) -> dict:
    """The runs of one family with different seeds -> the first run's record with the mean and standard deviation."""
    values = [r["value"] for r in runs if r.get("value") is not None]
    if not values:
        return runs[0]
    mean = sum(values) / len(values)
    std = (sum((v - mean) ** 2 for v in values) / max(1, len(values) - 1)) ** 0.5
    notes = sorted({n for r in runs for n in r["notes"]})
    return {
        **runs[0],
        "value": mean,
        "std": std,
        "seeds": len(values),
        "values": values,
        "notes": notes,
        "seconds": None if any(r.get("seconds") is None for r in runs) else sum(r["seconds"] for r in runs),
        "status": "cut short" if notes else "full",
        "runs": [r["run"] for r in runs],
    }


def gather_run(key: str, run: Path, family: str, extra: list[str]) -> dict:
    """One run's figure, epochs, width, curve and how it fell short of the paper."""
    row = ROWS[key]
    metrics_file = run / "metrics.json"
    if not metrics_file.exists():
        return {"status": "failed", "notes": [f"no metrics.json in {run}; see {run.parent / 'multirun.log'}"]}
    metrics = json.loads(metrics_file.read_text())
    run_cfg = OmegaConf.load(run / "config.yaml")
    paper_cfg = compose_config(row_overrides(key, "paper", extra, []) + [f"model={family}"], output_dir=".")
    notes = shortfall(run_cfg, paper_cfg, metrics["epochs"])
    knob = get_class(run_cfg.model._target_).width.key  # the width the budget chose
    value = metrics["test"].get(f"test/{row.metric}")
    return {
        "value": None if value is None else value * row.scale_by,
        "status": "cut short" if notes else "full",
        "notes": notes,
        "epochs": metrics["epochs"],
        "steps": metrics["global_step"],
        "seconds": metrics.get("seconds"),  # training and final evaluation (absent from runs before it was recorded)
        "width": {knob: OmegaConf.to_container(run_cfg.model)[knob]},
        "curve": curve(run),
        "run": str(run),
    }


def fmt(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.1f}" if value >= 10 else f"{value:.4f}" if value >= 1e-3 else f"{value:.1e}"


def result_rows(results: dict) -> list[dict]:
    """One row per task row and family, for the results file (docs/results/reproduce.json)."""
    rows = []
    for key, per_family in results.items():
        if "not_run" in per_family:
            rows.append({"row": key, "status": "not run", "what it did": per_family["not_run"]})
            continue
        for family, r in per_family.items():
            rows.append(
                {
                    "row": key,
                    "family": family,
                    "value": r.get("value"),
                    "std": r.get("std"),
                    "seeds": r.get("seeds", 1),
                    "paper": ROWS[key].paper.get(family),
                    "steps": r.get("steps"),
                    "status": r["status"],
                    "what it did": "; ".join(r.get("notes", [])),
                    "tuned": " ".join(r.get("tuned", [])) or None,
                }
            )
    return rows


def table(results: dict, models: list[str], scale: str) -> str:
    """Markdown: for each row, our figure per family (a dagger where cut short) and the paper's beneath it."""
    head = (
        "| Task | Metric | Source | "
        + " | ".join(f.upper() if f != "transformer" else "Transformer" for f in models)
        + " |"
    )
    lines = [head, "|" + "---|" * (3 + len(models))]
    footnotes, tuned = [], []
    for key, per_family in results.items():
        row = ROWS[key]
        if "not_run" in per_family:
            lines.append(f"| {row.name} | {row.label} | not run | " + " | ".join("-" for _ in models) + " |")
            footnotes.append(f"- {row.name} not run: {per_family['not_run']}")
            continue
        cells, notes = [], {}
        for family in models:
            r = per_family[family]
            if r["status"] == "failed":  # a failed run has no value: the table still shows every other row
                cells.append("failed")
            else:
                value = fmt(r["value"]) + (f" ± {fmt(r['std'])}" if "std" in r else "")
                cells.append(value + (" †" if r["status"] == "cut short" else ""))
            if r.get("tuned"):
                final = "?" if r.get("seconds") is None else f"{r['seconds'] / 60:.0f}"
                took = f" (tuning {r['tuning_seconds'] / 60:.0f} min, {r.get('seeds', 1)} final runs {final} min)"
                tuned.append(f"- {row.name}, {family}: {' '.join(r['tuned'])}{took}")
            if r["notes"]:
                notes.setdefault("; ".join(r["notes"]), []).append(family)
        for note, families in notes.items():
            who = "every model" if len(families) == len(models) else ", ".join(families)
            footnotes.append(f"- {row.name} ({who}): {note}")
        lines.append(f"| {row.name} | {row.label} | seqzoo, {scale} scale | " + " | ".join(cells) + " |")
        paper = [fmt(row.paper.get(f)) if row.paper else "-" for f in models]
        lines.append("| | | Bai et al. 2018 | " + " | ".join(paper) + " |")
    text = "\n".join(lines) + "\n"
    if footnotes:
        text += (
            "\n† cut short: trained for less than the paper's setting, so not comparable to its figure; failures "
            "and missing data:\n" + "\n".join(footnotes) + "\n"
        )
    if tuned:
        text += (
            "\nSettings each family ended up with (the best validation trial of its study), and the time it took "
            "here:\n" + "\n".join(tuned) + "\n"
        )
    baselines = [f"{r.name} {fmt(r.baseline)}" for k, r in ROWS.items() if k in results and r.baseline]
    if baselines:
        text += (
            "\nLoss of a model that remembers nothing (predicts the mean, or blanks and a guess): "
            + ", ".join(baselines)
            + ".\n"
        )
    text += (
        "\nBai et al. 2018 has no Transformer column, and gives the adding problem T=200/400 and copy memory T=500 "
        "as curves only (-).\n"
    )
    return text


def plot(key: str, per_family: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for family, r in per_family.items():
        if r.get("curve"):
            steps, losses = zip(*r["curve"])
            ax.plot(
                steps,
                losses,
                marker="o",
                markersize=3,
                label=family + (" (cut short)" if r["status"] == "cut short" else ""),
            )
    if ROWS[key].baseline:
        ax.axhline(ROWS[key].baseline, color="grey", linestyle="--", linewidth=1, label="remembers nothing")
    ax.set(xlabel="training step", ylabel="validation loss", title=ROWS[key].name, yscale="log")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", choices=list(SCALES), required=True)
    parser.add_argument("--rows", default=",".join(ROWS), help=f"comma-separated, from: {', '.join(ROWS)}")
    parser.add_argument("--models", default=",".join(FAMILIES))
    parser.add_argument("--out", type=Path, help="default: logs/reproduce/<scale>")
    parser.add_argument("--mnist-root", help="folder holding MNIST/raw/ (the MNIST rows only)")
    parser.add_argument("--download", action="store_true", help="let the MNIST rows download the files")
    parser.add_argument(
        "--override", action="append", default=[], help="a Hydra override for every run, e.g. trainer=gpu"
    )
    parser.add_argument(
        "--gather-only", action="store_true", help="train nothing: rebuild the table and plots from the runs in --out"
    )
    parser.add_argument(
        "--tune", type=int, default=0, help="Optuna trials per family and row before the final runs (0: none)"
    )
    parser.add_argument("--seeds", type=int, default=1, help="final runs per family (seeds 0 .. K-1): mean +- std")
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue an interrupted --tune/--seeds measurement in --out: studies add their missing "
        "trials, seeds with a metrics.json are kept, an interrupted seed starts again",
    )
    results_file.add_arguments(parser)
    args = parser.parse_args(argv)
    rows, models = args.rows.split(","), args.models.split(",")
    for name, known in (("row", ROWS), ("model", FAMILIES)):
        unknown = [x for x in (rows if name == "row" else models) if x not in known]
        if unknown:
            parser.error(f"unknown {name} {', '.join(unknown)}; choose from {', '.join(known)}")
    out = args.out or ROOT / "logs" / "reproduce" / args.scale
    mnist = ([f"data.root={Path(args.mnist_root).resolve()}"] if args.mnist_root else []) + (
        ["data.download=true"] if args.download else []
    )

    taken = [key for key in rows if (out / "runs" / key).exists()]
    if args.resume and not (args.tune or args.seeds > 1):
        parser.error("--resume continues a --tune or --seeds measurement; a plain multirun starts afresh")
    if taken and not (args.gather_only or args.resume):  # old results must not pass for new ones, nor be overwritten
        parser.error(
            f"{out / 'runs'} already holds runs of {', '.join(taken)}; pass another --out, delete them, "
            "or add --gather-only to rebuild the table from them"
        )
    results = {}
    for key in rows:
        overrides = row_overrides(key, args.scale, args.override, mnist)
        why = missing_data(overrides)
        if why:
            print(f"{key}: not run: {why}")
            results[key] = {"not_run": why}
            continue
        sweep = out / "runs" / key
        tuned = {}
        if not args.gather_only:
            print(f"{key}: {' '.join(overrides)} model={','.join(models)}", flush=True)
            tuned = tune_row(key, overrides, models, out, args.tune) if args.tune else {}
            run_row(key, overrides, models, out, args.seeds, tuned)
        results[key] = gather(key, sweep, models, args.override)
        for family in models:  # what tuning chose (also when only gathering), and how long it took
            settings = tuned.get(family) or best_settings(out / "tune" / key, family)
            if settings and family in results[key]:
                results[key][family]["tuned"] = settings
                results[key][family]["tuning_seconds"] = tuning_seconds(out / "tune" / key, family)
        plot(key, results[key], out / "curves" / f"{key}.png")

    text = table(results, models, args.scale)
    (out / "table.md").write_text(text)
    (out / "results.json").write_text(json.dumps({"scale": args.scale, "rows": results}, indent=1) + "\n")
    print("\n" + text + f"\nwritten: {out / 'table.md'}, {out / 'results.json'}, {out / 'curves'}/")
    results_file.save(args, result_rows(results), args.label or args.scale)
    failed = [
        f"{k}/{f}" for k, r in results.items() if "not_run" not in r for f, v in r.items() if v["status"] == "failed"
    ]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
