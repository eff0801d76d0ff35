"""Training speed of seqzoo's Lightning path against a minimal hand-written PyTorch loop, per backbone.

    python scripts/bench_train.py --out bench_train.json                 # every family, CPU (or CUDA)
    python scripts/bench_train.py --models lstm,tcn --steps 100 --repeats 5 --lengths 64,256,1024,4096
    python scripts/bench_train.py --as-run     # include a run's CSV logging and progress bar in the seqzoo path

Both paths train the same task module (built from the real configs), on the same data and batches, with
the same optimiser and gradient clipping, for ``--steps`` steps; the first ``--warmup`` steps are not
timed. The two paths alternate inside every repeat (order flipped each repeat) so machine noise hits both;
the table gives median steps/s, the ratio plain / seqzoo of those medians (1.00 = no cost, 1.10 = seqzoo
takes 10 % longer per step) and the median of the per-repeat (paired) ratios. On CUDA, peak memory of each path is
reported too.
``--lengths`` also measures forward+backward throughput (tokens/s) against sequence length for every
backbone and plots it: the cost curve to choose an architecture by.
"""

import argparse
import itertools
import json
import statistics
import tempfile
import time
from pathlib import Path

import lightning as L
import results as results_file  # scripts/results.py: the benchmark's results file under docs/results/
import torch
import torch.nn.functional as F
from hydra.utils import instantiate
from lightning.pytorch.loggers import CSVLogger

from seqzoo.cli import compose_config
from seqzoo.data.batch import INPUT_MASK, INPUTS, TARGETS
from seqzoo.models.registry import list_models
from seqzoo.tasks.plain_loop import plain_steps
from seqzoo.train import build_task


def setup(model: str, args):
    """The task and DataModule of ``python train.py model=<model> data=adding`` at the benchmark's sizes."""
    n = args.batch * (args.steps + 1)
    overrides = [
        f"model={model}",
        "data=adding",
        f"data.length={args.length}",
        f"data.n_train={n}",
        "data.n_val=8",
        "data.n_test=8",
        f"data.batch_size={args.batch}",
        "task.scheduler=null",
        "task.target_length=null",
    ]  # every step reaches the backbone: the cost measured is per step
    cfg = compose_config(overrides, output_dir=".")
    dm = instantiate(cfg.data)
    dm.setup("fit")
    return cfg, dm


class StepClock(L.Callback):
    """Times training from the start of batch ``warmup`` to the end of the last one."""

    def __init__(self, warmup: int, device: str):
        self.warmup, self.device, self.start, self.end = warmup, device, None, None

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if batch_idx == self.warmup:
            sync(self.device)
            self.start = time.perf_counter()

    def on_train_end(self, trainer, pl_module):
        sync(self.device)
        self.end = time.perf_counter()


def sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def run_seqzoo(model: str, args) -> tuple[float, float | None]:
    cfg, dm = setup(model, args)
    torch.manual_seed(0)
    task = build_task(cfg, dm.info)
    clock = StepClock(args.warmup, args.device)
    # --as-run adds what train.py's runs also do every step: the CSV log (every 5 steps) and the progress bar
    with tempfile.TemporaryDirectory() as logs:  # the CSV log is measured, not kept
        logger = CSVLogger(logs, name="bench") if args.as_run else False
        trainer = L.Trainer(
            accelerator=args.device,
            devices=1,
            max_steps=args.steps,
            limit_val_batches=0,
            num_sanity_val_steps=0,
            logger=logger,
            log_every_n_steps=5,
            enable_checkpointing=False,
            enable_progress_bar=args.as_run,
            enable_model_summary=False,
            gradient_clip_val=1.0,
            callbacks=[clock],
        )
        reset_memory(args.device)
        trainer.fit(task, datamodule=dm)
    return (args.steps - args.warmup) / (clock.end - clock.start), peak_memory(args.device)


def run_plain(model: str, args) -> tuple[float, float | None]:
    """The loop a user would write by hand around the same module."""
    cfg, dm = setup(model, args)
    torch.manual_seed(0)
    device = torch.device(args.device)
    task = build_task(cfg, dm.info).to(device)
    optimizer = task.configure_optimizers()
    reset_memory(args.device)
    start = time.perf_counter() if args.warmup == 0 else None

    def loss_of(batch):
        x, mask, y = batch[INPUTS].to(device), batch[INPUT_MASK].to(device), batch[TARGETS].to(device)
        return F.mse_loss(task(x, mask).squeeze(-1), y)

    batches = itertools.islice(dm.train_dataloader(), args.steps)
    for step, _ in enumerate(plain_steps(task, optimizer, batches, loss_of)):
        if step + 1 == args.warmup:  # timing starts at batch `warmup`, as StepClock does for the Trainer
            sync(args.device)
            start = time.perf_counter()
    sync(args.device)
    return (args.steps - args.warmup) / (time.perf_counter() - start), peak_memory(args.device)


def reset_memory(device: str) -> None:
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()


def peak_memory(device: str) -> float | None:
    return torch.cuda.max_memory_allocated() / 2**20 if device == "cuda" else None


def throughputs(models: list[str], length: int, args) -> dict[str, float]:
    """Tokens per second of forward + backward at sequence length ``length``, for each model: the models
    take turns within each of 4 rounds (the first is warm-up), so drift hits all alike; median of the rest."""
    args_t = argparse.Namespace(**{**vars(args), "length": length, "steps": 1})
    runs, times = {}, {m: [] for m in models}
    for m in models:
        cfg, dm = setup(m, args_t)
        task = build_task(cfg, dm.info).to(args.device)
        batch = next(iter(dm.train_dataloader()))
        runs[m] = (task, batch[INPUTS].to(args.device), batch[INPUT_MASK].to(args.device))
    for _ in range(4):
        for m, (task, x, mask) in runs.items():
            sync(args.device)
            start = time.perf_counter()
            task(x, mask).sum().backward()
            sync(args.device)
            times[m].append(time.perf_counter() - start)
    return {m: args.batch * length / statistics.median(t[1:]) for m, t in times.items()}


def plot_throughput(curves: dict[str, list[tuple[int, float]]], path: Path, device: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for model, points in curves.items():
        ax.loglog([t for t, _ in points], [v for _, v in points], marker="o", label=model)
    ax.set_xlabel("sequence length T")
    ax.set_ylabel("training tokens / s (forward + backward)")
    ax.set_title(f"cost against sequence length ({device})", fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(True, which="major", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", default=",".join(list_models("encoder")), help="default: every configs/model/*.yaml")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--length", type=int, default=100)
    p.add_argument("--steps", type=int, default=60)
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--lengths", default="", help="e.g. 64,256,1024,4096: also measure and plot throughput against T")
    p.add_argument("--batch-for-lengths", type=int, default=4)
    p.add_argument("--only-lengths", action="store_true", help="skip the steps/s comparison with the plain loop")
    p.add_argument("--plot", default="throughput_vs_length.png")
    p.add_argument("--out", help="write the results as JSON here")
    p.add_argument(
        "--as-run", action="store_true", help="seqzoo path with the CSV log and progress bar of a train.py run"
    )
    results_file.add_arguments(p)
    args = p.parse_args()
    models = args.models.split(",")
    speeds = {m: {"seqzoo": [], "plain": []} for m in models}
    memory = {m: {} for m in models}
    for r in range(0 if args.only_lengths else args.repeats):
        for m in models:
            order = [("seqzoo", run_seqzoo), ("plain", run_plain)]
            for name, run in order if r % 2 == 0 else order[::-1]:
                steps_per_s, peak = run(m, args)
                speeds[m][name].append(steps_per_s)
                memory[m][name] = peak
    print(
        f"\n{args.device}: adding problem, T={args.length}, batch {args.batch}, {args.steps - args.warmup} timed "
        "steps, "
        f"median of {args.repeats}"
    )
    print(f"{'model':<14}{'seqzoo steps/s':>16}{'plain steps/s':>16}{'ratio':>8}{'paired':>9}")
    results = {}
    for m in models if not args.only_lengths else []:
        s, pl = statistics.median(speeds[m]["seqzoo"]), statistics.median(speeds[m]["plain"])
        # each repeat ran the two back to back: the median of those paired ratios resists drifts in machine load
        paired = statistics.median(b / a for a, b in zip(speeds[m]["seqzoo"], speeds[m]["plain"]))
        results[m] = {
            "seqzoo_steps_per_s": s,
            "plain_steps_per_s": pl,
            "ratio": pl / s,
            "paired_ratio": paired,
            "seqzoo_runs": speeds[m]["seqzoo"],
            "plain_runs": speeds[m]["plain"],
            "seqzoo_peak_mib": memory[m].get("seqzoo"),
            "plain_peak_mib": memory[m].get("plain"),
        }
        mem = f"   peak MiB {memory[m]['seqzoo']:.0f} / {memory[m]['plain']:.0f}" if memory[m].get("seqzoo") else ""
        print(f"{m:<14}{s:>16.2f}{pl:>16.2f}{pl / s:>8.3f}{paired:>9.3f}{mem}")
    curves = {}
    if args.lengths:
        args.batch = args.batch_for_lengths
        curves = {m: [] for m in models}
        for t in (int(v) for v in args.lengths.split(",")):
            for m, v in throughputs(models, t, args).items():
                curves[m].append((t, v))
        for m in models:
            print(f"{m:<14}" + "  ".join(f"T={t}: {v:,.0f} tok/s" for t, v in curves[m]))
        plot_throughput(curves, Path(args.plot), args.device)
        print(f"plot written to {args.plot}")
    if args.out:
        Path(args.out).write_text(json.dumps({"config": vars(args), "train": results, "throughput": curves}, indent=2))
    rows = [
        {
            "model": m,
            "seqzoo steps/s": round(r["seqzoo_steps_per_s"], 1),
            "plain loop steps/s": round(r["plain_steps_per_s"], 1),
            "paired ratio": round(r["paired_ratio"], 3),
            **(
                {"seqzoo peak MiB": round(r["seqzoo_peak_mib"]), "plain peak MiB": round(r["plain_peak_mib"])}
                if r["seqzoo_peak_mib"]
                else {}
            ),
        }
        for m, r in results.items()
    ]
    settings = {k: getattr(args, k) for k in ("length", "steps", "warmup", "repeats", "as_run")}
    if rows:
        results_file.save(args, rows, args.device, settings={**settings, "batch": args.batch})
    if curves:  # the throughput curve as its own run: <label>_lengths
        args.label = f"{args.label or args.device}_lengths"
        results_file.save(
            args,
            [{"model": m, "T": t, "tokens/s": round(v)} for m, pts in curves.items() for t, v in pts],
            args.device,
            settings={"batch": args.batch_for_lengths},
        )


if __name__ == "__main__":
    main()
