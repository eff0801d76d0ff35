"""Diagnostics from the command line, with Hydra overrides as in train.py.

    python scripts/diagnose.py gradient_flow data=adding data.length=200          # every family in configs/model/
    python scripts/diagnose.py gradient_flow model=rnn,lstm,lstm:forget_bias=1.0 data=adding   # per-model keys
    python scripts/diagnose.py gradient_flow ckpt=logs/train/runs/<run>/checkpoints/best.ckpt
    python scripts/diagnose.py hidden ckpt=logs/train/runs/<run>/checkpoints/best.ckpt --example 0
    python scripts/diagnose.py memory --lengths 10,25,50,100 --steps 400        # every family

gradient_flow draws ||dL/dx_t|| against t on a log scale (L: a fixed random projection of the last
step's output), one line per model at initialisation, and one per checkpoint (its trained backbone).
A comma-separated ``model=`` sweeps models onto one plot; other overrides apply to every model.

memory trains each model briefly on copy memory for each blank length T (loss on the 10 recall steps only)
and plots its recall accuracy (chance 1/8) against T: where each architecture stops remembering.

hidden draws a trained recurrent model's hidden state (and an LSTM's cell state) over time for one test
example, as heatmaps: the unrolled view of what the network keeps.
"""

import argparse
import itertools
import sys
from pathlib import Path

import results as results_file  # scripts/results.py: the benchmark's results file under docs/results/
import torch
from hydra.utils import instantiate

from seqzoo.cli import compose_config
from seqzoo.data.batch import INPUT_MASK, INPUTS
from seqzoo.diagnostics import gradient_flow
from seqzoo.diagnostics.gradient_flow import hidden_states
from seqzoo.errors import SeqzooError
from seqzoo.models.registry import list_models
from seqzoo.models.rnn import Recurrent
from seqzoo.tasks.plain_loop import plain_steps
from seqzoo.train import build_task, restore


def sweep(overrides: list[str]) -> list[list[str]]:
    """model=a,b:key=value,c -> one override list per model; ``b:key=value`` sets model.key for b alone.
    Without model=, every family in configs/model/."""
    models = next((o.split("=", 1)[1].split(",") for o in overrides if o.startswith("model=")), list_models("encoder"))
    rest = [o for o in overrides if not o.startswith("model=")]
    runs = []
    for m in models:
        name, *keys = (m or "").split(":")
        runs.append(rest + ([f"model={name}"] if name else []) + [f"model.{k}" for k in keys])
    return runs


def flow_at_init(overrides: list[str], batch_size: int, seed: int) -> tuple[str, torch.Tensor]:
    cfg = compose_config(overrides, output_dir=".")
    if "target_length" in cfg.task:  # the gradient at every input step, not at every patch
        cfg.task.target_length = None
    torch.manual_seed(seed)
    dm = instantiate(cfg.data)
    dm.prepare_data()
    dm.setup("fit")
    task = build_task(cfg, dm.info)
    return " ".join(o for o in overrides if o.startswith("model")) or "model", flow_of(task, dm, batch_size, seed)


def flow_of(task, dm, batch_size: int, seed: int) -> torch.Tensor:
    batch = next(iter(dm.loader("val")))
    x, mask = batch[INPUTS][:batch_size], batch[INPUT_MASK][:batch_size]
    x = task.embed(x) if hasattr(task, "embed") else x
    if hasattr(task, "patches"):  # a checkpoint trained on patches: its backbone reads patches
        x, mask = task.patches(x, mask)
    return gradient_flow(task.backbone, x.detach(), mask, seed=seed)["input"]


def plot(curves: dict[str, torch.Tensor], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for label, flow in curves.items():
        ax.plot(range(len(flow)), flow.numpy(), label=label)
    ax.set_yscale("log", nonpositive="mask")  # exact zeros (beyond a TCN's receptive field) are left out
    ax.set_xlabel("input step t (the loss is at the last step)")
    ax.set_ylabel("||dL / dx_t||")
    ax.set_title(title, fontsize=10)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_states(task, dm, example: int, path: Path, title: str) -> None:
    """Heatmaps (units x time) of the top layer's hidden state, and the cell state for an LSTM."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not isinstance(task.backbone, Recurrent) or task.backbone.bidirectional:
        raise SeqzooError(
            f"hidden-state views are for one-directional recurrent models, not {type(task.backbone).__name__}"
        )
    item = dm.splits["test"][example]
    x = item[INPUTS].unsqueeze(0)
    x = task.embed(x) if hasattr(task, "embed") else x
    with torch.no_grad():
        panels = {"hidden state h": torch.stack(hidden_states(task.backbone, x), 1)[0]}
        if task.backbone.mode == "LSTM":
            panels["cell state c"] = torch.stack(hidden_states(task.backbone, x, cells=True), 1)[0]
    fig, axes = plt.subplots(len(panels), 1, figsize=(8, 2.6 * len(panels)), squeeze=False)
    for ax, (name, states) in zip(axes[:, 0], panels.items()):
        limit = float(states.abs().max())
        im = ax.imshow(states.T.numpy(), aspect="auto", cmap="RdBu_r", vmin=-limit, vmax=limit, interpolation="nearest")
        ax.set_ylabel(f"{name}\nunit")
        fig.colorbar(im, ax=ax)
    axes[-1, 0].set_xlabel("time step")
    axes[0, 0].set_title(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def recall_after_training(overrides: list[str], blank_length: int, steps: int, seed: int) -> float:
    """Train on copy memory with blank length T for ``steps`` batches; -> recall accuracy on the test split."""
    data = [
        "task=aligned",
        "data=copy_memory",
        f"data.blank_length={blank_length}",
        "data.n_train=4096",
        "data.n_val=64",
        "data.n_test=512",
    ]
    cfg = compose_config(data + overrides + ["task.scheduler=null"])
    torch.manual_seed(seed)
    dm = instantiate(cfg.data)
    dm.setup("fit")
    task = build_task(cfg, dm.info)
    loader = dm.train_dataloader()
    batches = itertools.islice((b for _ in itertools.count() for b in loader), steps)  # epochs until `steps` batches

    def recall_loss(batch):  # the recall steps alone: the blanks would teach "output blank" and drown the memory signal
        return torch.nn.functional.cross_entropy(
            task(batch[INPUTS])[:, -10:].flatten(0, 1), batch["targets"][:, -10:].flatten()
        )

    for _ in plain_steps(task, task.configure_optimizers(), batches, recall_loss):
        pass
    task.eval()
    hits = total = 0
    with torch.no_grad():
        for batch in dm.loader("test"):
            predicted = task(batch[INPUTS])[:, -10:].argmax(-1)  # the recalled symbols
            hits += int((predicted == batch["targets"][:, -10:]).sum())
            total += predicted.numel()
    return hits / total


def plot_memory(results: dict[str, list[tuple[int, float]]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for label, points in results.items():
        ax.plot([t for t, _ in points], [a for _, a in points], marker="o", label=label)
    ax.axhline(1 / 8, color="grey", linestyle=":", label="chance (1/8)")
    ax.set_xscale("log")
    ax.set_xlabel("blank length T (steps between seeing and recalling)")
    ax.set_ylabel("recall accuracy")
    ax.set_ylim(0, 1.02)
    ax.set_title("memory horizon on copy memory (brief training)", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("what", choices=["gradient_flow", "hidden", "memory"])
    p.add_argument("overrides", nargs="*", help="Hydra overrides (model=a,b sweeps); ckpt=PATH adds a trained model")
    p.add_argument("--out", default="gradient_flow.png")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--example", type=int, default=0, help="hidden: which test example")
    p.add_argument("--lengths", default="10,25,50,100", help="memory: blank lengths T")
    p.add_argument("--steps", type=int, default=400, help="memory: training batches per model and length")
    results_file.add_arguments(p)
    args = p.parse_args()
    ckpts = [o.split("=", 1)[1] for o in args.overrides if o.startswith("ckpt=")]
    overrides = [o for o in args.overrides if not o.startswith("ckpt=")]
    if args.what == "memory":
        out = Path(args.out if args.out != "gradient_flow.png" else "memory_horizon.png")
        results = {}
        for run in sweep(overrides):
            label = " ".join(o for o in run if o.startswith("model"))
            results[label] = []
            for t in (int(v) for v in args.lengths.split(",")):
                accuracy = recall_after_training(run, t, args.steps, args.seed)
                results[label].append((t, accuracy))
                print(f"{label:<36} T={t:<6} recall accuracy {accuracy:.3f}", flush=True)
        plot_memory(results, out)
        print(f"plot written to {out}")
        results_file.save(
            args,
            [
                {"model": label.removeprefix("model="), "T": t, "recall accuracy": round(a, 3)}
                for label, points in results.items()
                for t, a in points
            ],
            settings={"steps": args.steps, "seed": args.seed},
        )
        return
    if args.what == "hidden":
        if len(ckpts) != 1:
            sys.exit("seqzoo: error: hidden needs one trained model: ckpt=<run>/checkpoints/best.ckpt")
        out = Path(args.out if args.out != "gradient_flow.png" else "hidden_states.png")
        try:
            run_cfg, dm, task = restore(compose_config([f"ckpt_path={ckpts[0]}"], name="eval"))
            dm.prepare_data()
            dm.setup("test")
            plot_states(
                task.eval(), dm, args.example, out, f"{type(task.backbone).__name__}, test example {args.example}"
            )
        except SeqzooError as e:
            sys.exit(f"seqzoo: error: {e}")
        print(f"plot written to {out}")
        return
    try:
        curves = (
            dict(flow_at_init(o, args.batch, args.seed) for o in sweep(overrides)) if overrides or not ckpts else {}
        )
        for ckpt in ckpts:
            run_cfg, dm, task = restore(compose_config([f"ckpt_path={ckpt}"], name="eval"))
            dm.prepare_data()
            dm.setup("fit")
            curves[f"{run_cfg.model._target_.split('.')[-1]} trained ({Path(ckpt).parent.parent.name})"] = flow_of(
                task, dm, args.batch, args.seed
            )
    except SeqzooError as e:
        sys.exit(f"seqzoo: error: {e}")
    for label, flow in curves.items():
        t = len(flow)
        print(f"{label:<40} ||dL/dx_t|| at t=0: {flow[0]:.2e}  t=T/2: {flow[t // 2]:.2e}  t=T-1: {flow[-1]:.2e}")
    data = " ".join(o for o in overrides if o.startswith("data=") or o.startswith("data.length"))
    plot(curves, Path(args.out), f"gradient flow through time ({data or 'default data'})")
    print(f"plot written to {args.out}")
    results_file.save(
        args,
        [
            {
                "model": label.removeprefix("model="),
                "T": len(flow),
                "at t=0": float(flow[0]),
                "at t=T/2": float(flow[len(flow) // 2]),
                "at t=T-1": float(flow[-1]),
            }
            for label, flow in curves.items()
        ],
        settings={"batch": args.batch, "seed": args.seed, "overrides": overrides},
    )


if __name__ == "__main__":
    main()
