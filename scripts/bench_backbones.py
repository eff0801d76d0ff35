"""Speed of seqzoo's backbones against their torch.nn counterparts, side by side in one run.

    python scripts/bench_backbones.py                      # CPU (and CUDA too, when present)
    python scripts/bench_backbones.py --device cuda --batch 64 --length 256 --out bench.json

For each case, every implementation is timed in turn inside each repeat (interleaved, so drift on a noisy
machine hits all alike); the table gives the median over repeats and the ratio to torch.nn (1.00 = as fast,
2.00 = twice as slow). Weights are copied from the torch.nn module, so all compute the same numbers.
"""

import argparse
import json
import statistics
import time

import results as results_file  # scripts/results.py: the benchmark's results file under docs/results/
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from seqzoo.layers.masking import mask_from_lengths
from seqzoo.models import GRU, LSTM, RNN
from seqzoo.models.transformer import EncoderLayer, copy_torch_encoder_layer


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def seconds(fn, iters: int, device: str) -> float:
    sync(device)
    start = time.perf_counter()
    for _ in range(iters):
        fn()
    sync(device)
    return (time.perf_counter() - start) / iters


def recurrent_case(name, ours_cls, torch_cls, args, masked: bool):
    """-> {impl: (forward fn, forward+backward fn)} for one recurrent family."""
    dev = args.device
    ref = torch_cls(args.features, args.hidden, args.layers, batch_first=True).to(dev)
    x = torch.randn(args.batch, args.length, args.features, device=dev)
    lengths = torch.randint(args.length // 2, args.length + 1, (args.batch,))
    lengths[0] = args.length
    mask = mask_from_lengths(lengths.to(dev), args.length) if masked else None

    def run_torch(inp):
        if not masked:
            return ref(inp)[0]
        packed = pack_padded_sequence(inp, lengths, batch_first=True, enforce_sorted=False)
        return pad_packed_sequence(ref(packed)[0], batch_first=True, total_length=args.length)[0]

    runs = {"torch.nn": run_torch}
    for impl in args.impls:
        ours = ours_cls(args.features, args.hidden, args.layers, impl=impl).to(dev)
        ours.load_state_dict(ref.state_dict())
        runs[impl] = lambda inp, m=ours: m(inp, mask)[0]
    return name + (" masked" if masked else ""), runs, x


def transformer_case(args):
    dev, d = args.device, args.d_model
    ref = nn.TransformerEncoderLayer(d, args.heads, 4 * d, dropout=0.0, batch_first=True).to(dev)
    ours = EncoderLayer(d, args.heads, 4 * d, dropout=0.0, activation="relu", norm_first=False).to(dev)
    copy_torch_encoder_layer(ours, ref)
    x = torch.randn(args.batch, args.length, d, device=dev)
    return "TransformerEncoderLayer", {"torch.nn": ref, "fused": ours}, x


def measure(runs: dict, x: torch.Tensor, args) -> dict:
    """{impl: {"fwd": median s, "fwd+bwd": median s}}, interleaving the implementations in every repeat."""
    xg = x.clone().requires_grad_()
    times = {impl: {"fwd": [], "fwd+bwd": []} for impl in runs}
    for fn in runs.values():  # warm-up: allocators, kernels, cuDNN plans
        fn(xg).sum().backward()
    for _ in range(args.repeats):
        for impl, fn in runs.items():
            with torch.no_grad():
                times[impl]["fwd"].append(seconds(lambda: fn(x), args.iters, args.device))
            times[impl]["fwd+bwd"].append(seconds(lambda: fn(xg).sum().backward(), args.iters, args.device))
    return {impl: {k: statistics.median(v) for k, v in t.items()} for impl, t in times.items()}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default=None, help="cpu or cuda; default: cpu, and cuda as well when present")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--length", type=int, default=100)
    p.add_argument("--features", type=int, default=32)
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--d-model", type=int, default=128)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--iters", type=int, default=5, help="calls per timing")
    p.add_argument("--impls", nargs="+", default=["fused", "reference"])
    p.add_argument("--out", help="write the results as JSON here")
    results_file.add_arguments(p)
    args = p.parse_args()
    devices = [args.device] if args.device else ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    results = []
    for device in devices:
        args.device = device
        torch.manual_seed(0)
        cases = [
            recurrent_case(n, o, t, args, m)
            for n, o, t in [("RNN", RNN, nn.RNN), ("LSTM", LSTM, nn.LSTM), ("GRU", GRU, nn.GRU)]
            for m in (False, True)
        ]
        cases.append(transformer_case(args))
        print(
            f"\n{device}: batch {args.batch}, length {args.length}, {args.features} features, hidden {args.hidden}, "
            f"{args.layers} layers (Transformer: d_model {args.d_model}, {args.heads} heads); median of {args.repeats}"
        )
        print(
            f"{'case':<24}{'pass':<9}{'torch.nn ms':>12}" + "".join(f"{i + ' ms':>14}{'ratio':>7}" for i in args.impls)
        )
        for name, runs, x in cases:
            t = measure(runs, x, args)
            for kind in ("fwd", "fwd+bwd"):
                row = f"{name:<24}{kind:<9}{1e3 * t['torch.nn'][kind]:>12.2f}"
                for impl in args.impls:
                    row += (
                        f"{1e3 * t[impl][kind]:>14.2f}{t[impl][kind] / t['torch.nn'][kind]:>7.2f}"
                        if impl in t
                        else f"{'-':>14}{'-':>7}"
                    )
                print(row)
                results.append(
                    {"device": device, "case": name, "pass": kind, **{f"{i}_s": v[kind] for i, v in t.items()}}
                )
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"config": vars(args), "results": results}, f, indent=2)
    for device in devices:
        rows = [
            {
                "case": r["case"],
                "pass": r["pass"],
                "torch.nn ms": round(1e3 * r["torch.nn_s"], 3),
                **{
                    k: v
                    for i in args.impls
                    if f"{i}_s" in r
                    for k, v in (
                        (f"{i} ms", round(1e3 * r[f"{i}_s"], 3)),
                        (f"{i} / torch.nn", round(r[f"{i}_s"] / r["torch.nn_s"], 2)),
                    )
                },
            }
            for r in results
            if r["device"] == device
        ]
        results_file.save(
            args, rows, device, settings={k: v for k, v in vars(args).items() if k not in ("out", "results", "label")}
        )


if __name__ == "__main__":
    main()
