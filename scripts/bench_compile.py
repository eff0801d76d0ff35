"""torch.compile on every family: graph breaks, compile time, and the speed of the compiled encoder (forward
+ backward on a padded batch) and of the compiled decoder ``step`` (a 32-token greedy-like loop) against
eager, timed side by side in one run (interleaved repeats, medians).

    TORCHINDUCTOR_FORCE_DISABLE_CACHES=1 python scripts/bench_compile.py   # every family, CPU, compile times cold
    python scripts/bench_compile.py --families lstm,mamba --device cuda --out docs/bench_compile_cuda.json
    python scripts/bench_compile.py --families s4d --out docs/bench_compile.json --merge   # re-measure one row

Each family is built from its configs/model and configs/decoder file as a user gets it (the default widths).
``graph breaks`` counts what torch._dynamo.explain finds in the encoder's forward (and the first reason);
a family with breaks still compiles, in several graphs with Python between them.
"""

import argparse
import json
import statistics
import time
from pathlib import Path

import results as results_file  # scripts/results.py: the benchmark's results file under docs/results/
import torch
from hydra.utils import instantiate

from seqzoo.cli import compose_config
from seqzoo.configs import config_options
from seqzoo.layers.masking import mask_from_lengths
from seqzoo.models.interface import run_encoder
from seqzoo.models.registry import list_models


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def timed(fn, device: str) -> float:
    sync(device)
    start = time.perf_counter()
    fn()
    sync(device)
    return time.perf_counter() - start


def part(group: str, name: str, **sizes):
    node = compose_config([f"{group}={name}"])[group]
    node = {k: v for k, v in node.items() if k != "target_params"}
    return instantiate(node, **sizes)


def encoder_case(name: str, args):
    torch.manual_seed(0)
    enc = part("model", name, input_size=args.features).to(args.device)
    x = torch.randn(args.batch, args.length, args.features, device=args.device)
    lengths = torch.randint(args.length // 2, args.length + 1, (args.batch,))
    lengths[0] = args.length
    mask = mask_from_lengths(lengths, args.length).to(args.device)

    def make(module):
        def train_step():
            run_encoder(module, x, mask).square().mean().backward()

        return train_step

    explained = torch._dynamo.explain(lambda: run_encoder(enc, x, mask))()
    torch._dynamo.reset()
    reasons = [str(getattr(r, "reason", r)).splitlines()[0][:120] for r in explained.break_reasons]
    compiled = torch.compile(enc)

    @torch.no_grad()
    def check() -> dict:  # in eval mode: dropout off
        enc.eval()
        want = run_encoder(enc, x, mask)
        diff = float((run_encoder(compiled, x, mask) - want).abs().max())
        enc.train()
        return {
            "graph_breaks": explained.graph_break_count,
            "first_break": reasons[0] if reasons else None,
            "max_abs_difference": diff,
            "largest_magnitude": float(want.abs().max()),
        }

    return make(enc), make(compiled), check


def decoder_case(name: str, args):
    torch.manual_seed(0)
    D = args.features
    dec = part("decoder", name, input_size=D, memory_size=D, condition_size=D).to(args.device).eval()
    memory = torch.randn(args.batch, 24, D, device=args.device)
    memory_mask = torch.ones(args.batch, 24, dtype=torch.bool, device=args.device)
    condition = torch.randn(args.batch, D, device=args.device)
    tokens = torch.randn(args.steps, args.batch, D, device=args.device)
    compiled_step = torch.compile(dec.step)

    def make(step):
        @torch.no_grad()
        def loop():
            state, outs = dec.init_state(memory, memory_mask, condition), []
            for t in range(args.steps):
                out, state = step(tokens[t], state)
                outs.append(out)
            return torch.stack(outs)

        return loop

    eager, compiled = make(dec.step), make(compiled_step)

    def check() -> dict:
        want = eager()
        return {
            "max_abs_difference": float((compiled() - want).abs().max()),
            "largest_magnitude": float(want.abs().max()),
        }

    return eager, compiled, check


def measure(eager, compiled, args) -> dict:
    first = timed(compiled, args.device)  # compiling, then one run
    eager()  # warm-up
    times = {"eager": [], "compiled": []}
    for _ in range(args.repeats):
        times["eager"].append(timed(eager, args.device))
        times["compiled"].append(timed(compiled, args.device))
    e, c = statistics.median(times["eager"]), statistics.median(times["compiled"])
    return {
        "compile_s": round(first - c, 2),
        "eager_ms": round(1e3 * e, 2),
        "compiled_ms": round(1e3 * c, 2),
        "speedup": round(e / c, 2),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--families", default=",".join(list_models("encoder")))
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--length", type=int, default=256)
    parser.add_argument("--features", type=int, default=32)
    parser.add_argument("--steps", type=int, default=32, help="decoder steps per timed loop")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--merge", action="store_true", help="keep the other families' rows already in --out")
    results_file.add_arguments(parser)
    args = parser.parse_args(argv)
    unknown = sorted(set(args.families.split(",")) - set(list_models("encoder")))
    if unknown:
        parser.error(f"unknown families {unknown}; known: {', '.join(config_options('model'))}")
    rows = json.loads(args.out.read_text())["rows"] if args.merge and args.out and args.out.exists() else {}
    for name in args.families.split(","):
        try:
            rows[name] = family_row(name, args)
        except Exception as e:  # noqa: BLE001 -- a family that does not compile is a finding: record it and go on
            lines = [line.strip() for line in str(e).splitlines() if line.strip()] or [""]
            said = lines[0] if len(lines) == 1 else f"{lines[0]} ... {lines[-1]}"  # torch's cause is often last
            rows[name] = {"error": f"{type(e).__name__}: {said[:300]}"}
        torch._dynamo.reset()
        print(name, json.dumps(rows[name]), flush=True)
        table = report(rows, args)  # after every family: a run stopped by a time limit keeps what it measured
    print("\n" + table)
    return 0


def family_row(name: str, args) -> dict:
    """Compile time, eager and compiled times and the largest difference, for the encoder and the decoder step."""
    eager, compiled, check = encoder_case(name, args)
    row = {"encoder": measure(eager, compiled, args)}
    row["encoder"].update(check())
    torch._dynamo.reset()
    eager, compiled, check = decoder_case(name, args)
    row["decoder_step"] = measure(eager, compiled, args)
    row["decoder_step"].update(check())
    return row


def report(rows: dict, args) -> str:
    """The table (beside --out as .md) and the JSON; -> the table."""
    device = (
        torch.cuda.get_device_name() if args.device.startswith("cuda") else f"CPU, {torch.get_num_threads()} threads"
    )
    lines = [
        f"torch.compile against eager, {device}, torch {torch.__version__}; encoder: forward + backward, batch "
        f"{args.batch} x {args.length} steps (padded); decoder: {args.steps} steps of batch {args.batch}; medians "
        f"of {args.repeats}; speed-up > 1: compiled is faster",
        "",
        "| family | graph breaks | encoder compile (s) | encoder eager (ms) | compiled (ms) | speed-up | max diff | "
        "step compile (s) | step loop eager (ms) | compiled (ms) | speed-up | max diff |",
        "|---" * 12 + "|",
    ]
    for name, r in rows.items():
        if "error" in r:
            lines.append(f"| {name} | fails: {r['error']} |" + " |" * 10)
            continue
        e, d = r["encoder"], r["decoder_step"]
        lines.append(
            f"| {name} | {e['graph_breaks']} | {e['compile_s']} | {e['eager_ms']} | {e['compiled_ms']} | "
            f"{e['speedup']}x | "
            f"{e['max_abs_difference']:.0e} | {d['compile_s']} | {d['eager_ms']} | {d['compiled_ms']} | "
            f"{d['speedup']}x | "
            f"{d['max_abs_difference']:.0e} |"
        )
    breaks = [
        f"- {n}: {r['encoder']['first_break']}" for n, r in rows.items() if r.get("encoder", {}).get("graph_breaks")
    ]
    text = "\n".join(lines + (["", "First graph break of each family that has one:", *breaks] if breaks else [])) + "\n"
    if args.out:
        args.out.write_text(
            json.dumps({"device": device, "args": {k: str(v) for k, v in vars(args).items()}, "rows": rows}, indent=1)
            + "\n"
        )
        args.out.with_suffix(".md").write_text(text)
    results_file.save(
        args,
        [result_row(name, r) for name, r in rows.items()],
        args.device,
        settings={k: getattr(args, k) for k in ("batch", "length", "features", "steps", "repeats")},
    )
    return text


def result_row(family: str, r: dict) -> dict:
    """One family's figures as a flat row of the results file."""
    if "error" in r:
        return {"family": family, "error": str(r["error"])[:120]}
    row = {"family": family, "graph breaks": r["encoder"].get("graph_breaks")}
    for part, name in (("encoder", "encoder"), ("decoder_step", "step")):
        row.update(
            {
                f"{name} {label}": r[part].get(key)
                for key, label in (
                    ("compile_s", "compile s"),
                    ("eager_ms", "eager ms"),
                    ("compiled_ms", "compiled ms"),
                    ("speedup", "speed-up"),
                )
            }
        )
    return row


if __name__ == "__main__":
    raise SystemExit(main())
