"""Backbones on long sequences: training throughput (forward + backward) and activation memory against T, at
one width for every family, side by side in one run.

    python scripts/bench_long.py                                   # every configs/model/ family, T = 64 ... 4096
    python scripts/bench_long.py --models lstm,mingru --lengths 1024,4096,16384 --out docs/bench_long.json
    python scripts/bench_long.py --models mamba,mamba:impl=reference --lengths 4096   # fast path against the loop
    python scripts/bench_long.py --models mingru,mingru@elements=1000000000000 --lengths 16384   # blocks against none
    python scripts/bench_long.py --models s4d,s4d@relayout=view --lengths 1024,16384   # copies against views

Each family is built from its config with its width knob at ``--width`` and one layer (``num_layers=1``
where the family has it), on random inputs of ``--features`` channels, batch ``--batch``. Within each of
``--rounds`` rounds every family runs once in turn (the first round is warm-up), so a drift in machine load
hits all alike; the table gives tokens/s (median) and each family's ratio to ``--baseline`` measured in the
same rounds. ``@elements=N`` runs a family with ``layers/time_blocks.py``'s ELEMENTS set to N (the size of a
block of time on a CPU); ``@relayout=view`` runs it with ``layers/relayout.py``'s time/channel swaps as bare
transposes (views) instead of copies. Memory is what autograd saves for the backward pass (the activations that grow
with
T), counted through ``saved_tensors_hooks``, so it is measured the same way on a CPU and a GPU.
"""

import argparse
import json
import statistics
import time
from pathlib import Path

import results as results_file  # scripts/results.py: the benchmark's results file under docs/results/
import torch
from hydra.utils import get_class
from omegaconf import OmegaConf

from seqzoo.cli import compose_config
from seqzoo.layers import relayout, time_blocks
from seqzoo.models.interface import run_encoder
from seqzoo.models.registry import list_models
from seqzoo.models.sizing import width_value


def build(spec: str, width: int, features: int, length: int) -> torch.nn.Module:
    """``spec``: a family, optionally with constructor overrides: ``mamba:impl=reference``; a family with a
    position table (the Transformer's ``max_len``) gets one that reaches ``length``."""
    name, _, extra = spec.partition(":")
    node = compose_config([f"model={name}", *(f"model.{kv}" for kv in extra.split(";") if kv)]).model
    family = get_class(node._target_)
    kwargs = {k: v for k, v in OmegaConf.to_container(node).items() if k not in ("_target_", "target_params")}
    kwargs[family.width.key] = width_value(family, kwargs, width)
    kwargs.update({k: 1 for k in ("num_layers",) if k in kwargs})
    if "max_len" in kwargs:
        kwargs["max_len"] = max(kwargs["max_len"], length)
    return family(input_size=features, **kwargs)


def saved_bytes(fn) -> int:
    """Bytes of the tensors autograd keeps for the backward pass of ``fn()`` (each storage counted once)."""
    seen = {}

    def pack(t):
        seen[(t.untyped_storage().data_ptr(), t.device)] = t.untyped_storage().nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = fn()
    del out
    return sum(seen.values())


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", default=",".join(list_models("encoder")))
    p.add_argument("--lengths", default="64,256,1024,4096")
    p.add_argument("--width", type=int, default=128)
    p.add_argument("--features", type=int, default=16)
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--rounds", type=int, default=4)
    p.add_argument("--baseline", default="lstm")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--out", help="write the results as JSON here")
    results_file.add_arguments(p)
    args = p.parse_args()
    models = args.models.split(",")
    results = {
        "device": torch.cuda.get_device_name() if args.device == "cuda" else f"cpu, {torch.get_num_threads()} threads",
        "width": args.width,
        "batch": args.batch,
        "features": args.features,
        "lengths": {},
    }
    settings = {m: dict(kv.split("=") for kv in m.split("@")[1:]) for m in models}
    elements = time_blocks.ELEMENTS

    def apply(m: str) -> None:
        """The module settings ``m`` asks for after its ``@``s, the defaults otherwise."""
        time_blocks.ELEMENTS = int(float(settings[m].get("elements", elements)))
        relayout.COPY = settings[m].get("relayout", "copy") == "copy"

    for T in (int(v) for v in args.lengths.split(",")):
        torch.manual_seed(0)
        nets = {m: build(m.partition("@")[0], args.width, args.features, T).to(args.device) for m in models}
        x = torch.randn(args.batch, T, args.features, device=args.device)
        times = {m: [] for m in models}
        for _ in range(args.rounds):
            for m, net in nets.items():
                apply(m)
                sync(args.device)
                start = time.perf_counter()
                run_encoder(net, x).square().mean().backward()
                sync(args.device)
                times[m].append(time.perf_counter() - start)
        row = {}
        for m, net in nets.items():
            apply(m)
            speed = args.batch * T / statistics.median(times[m][1:])
            base = statistics.median(b / a for a, b in zip(times[m][1:], times.get(args.baseline, times[m])[1:]))
            row[m] = {
                "tokens_per_s": speed,
                f"x_{args.baseline}": base,
                "saved_mib": saved_bytes(lambda: run_encoder(net, x).square().mean()) / 2**20,
            }
        results["lengths"][T] = row
        print(
            f"T={T}: "
            + "  ".join(
                f"{m} {r['tokens_per_s']:,.0f} tok/s ({r[f'x_{args.baseline}']:.2f}x, {r['saved_mib']:.0f} MiB)"
                for m, r in row.items()
            ),
            flush=True,
        )
    print(
        f"\n{results['device']}, batch {args.batch}, width {args.width}, one layer: tokens/s (x {args.baseline}, "
        "paired) / saved MiB"
    )
    print("| model | " + " | ".join(f"T={T}" for T in results["lengths"]) + " |")
    print("|---|" + "---|" * len(results["lengths"]))
    for m in models:
        cells = [
            f"{row[m]['tokens_per_s']:,.0f} ({row[m][f'x_{args.baseline}']:.2f}x, {row[m]['saved_mib']:.0f} MiB)"
            for row in results["lengths"].values()
        ]
        print(f"| {m} | " + " | ".join(cells) + " |")
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=1))
    rows = [
        {
            "model": m,
            "T": int(T),
            "tokens/s": round(r["tokens_per_s"]),
            f"x {args.baseline}": round(r[f"x_{args.baseline}"], 2),
            "saved MiB": round(r["saved_mib"]),
        }
        for T, row in results["lengths"].items()
        for m, r in row.items()
    ]
    results_file.save(
        args,
        rows,
        args.device,
        settings={"width": args.width, "batch": args.batch, "features": args.features, "rounds": args.rounds},
    )


if __name__ == "__main__":
    main()
