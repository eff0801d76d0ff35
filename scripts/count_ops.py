"""Count the tensor operations (ATen calls; on a GPU roughly one kernel launch each) of one training step of a
family's encoder, forward and backward: where a GPU idles between launches, this is the number to cut.

    python scripts/count_ops.py --models lstm,mingru,mamba,mamba:parallel=true --length 4096

A model is a ``bench_long.py`` spec: ``mamba:parallel=true`` runs Mamba's selective scan as it runs on a GPU
(long chunks with scans inside them) on this CPU, so that the two paths are counted side by side without a GPU.
"""

import argparse

import results as results_file  # scripts/results.py: the benchmark's results file under docs/results/
import torch
from torch.utils._python_dispatch import TorchDispatchMode

from seqzoo.models.interface import run_encoder


class CountOps(TorchDispatchMode):
    def __init__(self):
        super().__init__()
        self.count = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.count += 1
        return func(*args, **(kwargs or {}))


def main(argv=None) -> int:
    from bench_long import build  # scripts/ is on sys.path when this runs as a script

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", default="lstm,mingru,mamba,mamba:parallel=true")
    p.add_argument("--length", type=int, default=4096)
    p.add_argument("--width", type=int, default=128)
    p.add_argument("--batch", type=int, default=2)
    p.add_argument("--features", type=int, default=16)
    results_file.add_arguments(p)
    args = p.parse_args(argv)
    print(
        f"ATen operations in one forward + backward: batch {args.batch}, T={args.length}, width {args.width}, one "
        "layer\n"
    )
    print("| model | operations | per step |\n|---|---|---|")
    rows = []
    for name in args.models.split(","):
        torch.manual_seed(0)
        net = build(name, args.width, args.features, args.length)
        x = torch.randn(args.batch, args.length, args.features)
        with CountOps() as counter:
            run_encoder(net, x).square().mean().backward()
        print(f"| {name} | {counter.count:,} | {counter.count / args.length:.2f} |", flush=True)
        rows.append({"model": name, "operations": counter.count, "per step": round(counter.count / args.length, 2)})
    results_file.save(args, rows, settings={"length": args.length, "width": args.width, "batch": args.batch})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
