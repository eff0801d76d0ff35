"""Decoding speed: tokens/s of greedy and beam search for each decoder family, with its incremental state
(RNN hidden state, Transformer key/value cache, TCN input buffers) against recomputing the whole prefix
at every step, side by side in one run.

    python scripts/bench_decoding.py                       # every decoder in configs/decoder/, length 64
    python scripts/bench_decoding.py --length 128 --beam 4 --out decoding.json
    python scripts/bench_decoding.py --latency-at 100,4000     # also: the cost of one step deep into a sequence

Models are randomly initialised (speed does not depend on training); the end-of-sequence id is switched
off so every hypothesis runs the full length. Both ways must produce the same tokens: the script checks.
"""

import argparse
import copy
import json
import statistics
import time
from pathlib import Path

import results as results_file  # scripts/results.py: the benchmark's results file under docs/results/
import torch
from hydra.utils import instantiate

from seqzoo.cli import compose_config
from seqzoo.configs import config_options
from seqzoo.data.vocab import BOS_ID
from seqzoo.layers.batch_select import select_batch
from seqzoo.tasks import decoding
from seqzoo.tasks.token_decoder import TokenDecoder

NO_EOS = -1  # an id no step emits: hypotheses never finish early


def build(name: str, vocab: int, width: int) -> TokenDecoder:
    cfg = compose_config([f"decoder={name}", "decoder.dropout=0"])
    torch.manual_seed(0)
    return TokenDecoder(
        instantiate(cfg.decoder, _partial_=True), vocab, width, memory_size=width, condition_size=width
    ).eval()


def recompute_step(model: TokenDecoder):
    """A step function without incremental state: the whole prefix goes through the decoder every step."""

    def step(tokens, state):
        prefix = torch.cat([state["prefix"], tokens[:, None]], dim=1)  # (B, t)
        logits = model(prefix, state["memory"], state["memory_mask"], state["condition"])[:, -1]
        return model.generation_log_probs(logits), {**state, "prefix": prefix}

    return step


def step_latency(
    model: TokenDecoder, state, batch: int, positions: list[int], steps: int = 100
) -> dict[int, float | None]:
    """Median seconds of one incremental step at each position (the state grown by feeding tokens up to it);
    None where the decoder cannot reach that position (a Transformer's maximum length). Paired: the states at
    every position are kept, and each round times one step from a copy of each in turn (decoders may update
    their state in place), the order reversed every other round, so a drift in the machine's load hits every
    position alike."""
    tokens, t, states = torch.full((batch,), BOS_ID), 0, {}
    try:
        for p in sorted(positions):
            while t < p:
                _, state = model.step(tokens, state)
                t += 1
            states[p] = copy.deepcopy(state)  # a snapshot: stepping on may update the state in place
    except (ValueError, IndexError, RuntimeError):
        pass
    times = {p: [] for p in states}
    for round_ in range(steps):
        for p, s in list(states.items())[:: 1 if round_ % 2 else -1]:  # first and last take turns to go first
            s = copy.deepcopy(s)
            times[p].append(timed(lambda: model.step(tokens, s))[0])
    return {p: statistics.median(times[p]) if p in states else None for p in positions}


def timed(fn) -> tuple[float, torch.Tensor]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        "--decoders", default=",".join(config_options("decoder")), help="default: every configs/decoder/*.yaml"
    )
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--length", type=int, default=64)
    p.add_argument("--memory", type=int, default=30, help="source length the decoder attends to")
    p.add_argument("--vocab", type=int, default=64)
    p.add_argument("--width", type=int, default=128)
    p.add_argument("--beam", type=int, default=4)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--latency-at", default="", help="e.g. 100,4000: time one incremental step at these positions")
    p.add_argument("--out")
    results_file.add_arguments(p)
    args = p.parse_args()
    torch.manual_seed(0)
    memory = torch.randn(args.batch, args.memory, args.width)
    mask = torch.ones(args.batch, args.memory, dtype=torch.bool)
    condition = memory.mean(1)
    common = dict(batch_size=args.batch, bos=BOS_ID, eos=NO_EOS, max_len=args.length, device="cpu")
    results = {}
    print(
        f"batch {args.batch}, {args.length} tokens, memory {args.memory}, width {args.width}, beam {args.beam}; "
        f"tokens/s, median of {args.repeats}"
    )
    print(
        f"{'decoder':<13}{'greedy inc':>12}{'greedy re':>12}{'speed-up':>10}"
        f"{'beam inc':>12}{'beam re':>12}{'speed-up':>10}"
    )
    for name in args.decoders.split(","):
        model = build(name, args.vocab, args.width)
        fresh = lambda: model.init_state(memory, mask, condition)
        plain = lambda: {
            "prefix": torch.full((args.batch, 0), BOS_ID),
            "memory": memory,
            "memory_mask": mask,
            "condition": condition,
        }
        reorder = lambda s, i: select_batch(s, i, 0)
        runs = {
            "greedy inc": lambda: decoding.greedy(model.step, fresh(), **common)[0],
            "greedy re": lambda: decoding.greedy(recompute_step(model), plain(), **common)[0],
            "beam inc": lambda: decoding.beam_search(
                model.step, model.decoder.reorder_state, fresh(), beam_size=args.beam, keep_greedy=False, **common
            )[0],
            "beam re": lambda: decoding.beam_search(
                recompute_step(model), reorder, plain(), beam_size=args.beam, keep_greedy=False, **common
            )[0],
        }
        times, outputs = {k: [] for k in runs}, {}
        with torch.no_grad():
            for _ in range(args.repeats):
                for key, run in runs.items():
                    seconds, outputs[key] = timed(run)
                    times[key].append(seconds)
        for kind in ("greedy", "beam"):
            if not torch.equal(outputs[f"{kind} inc"], outputs[f"{kind} re"]):
                raise SystemExit(f"{name}: incremental and recomputed {kind} decoding disagree")
        tps = {k: args.batch * args.length / statistics.median(v) for k, v in times.items()}
        results[name] = {
            **tps,
            "greedy_speedup": tps["greedy inc"] / tps["greedy re"],
            "beam_speedup": tps["beam inc"] / tps["beam re"],
        }
        r = results[name]
        print(
            f"{name:<13}{r['greedy inc']:>12,.0f}{r['greedy re']:>12,.0f}{r['greedy_speedup']:>9.1f}x"
            f"{r['beam inc']:>12,.0f}{r['beam re']:>12,.0f}{r['beam_speedup']:>9.1f}x"
        )
    if args.latency_at:
        positions = [int(v) for v in args.latency_at.split(",")]
        print(
            f"\none incremental step, batch {args.batch}: ms at position "
            + ", ".join(map(str, positions))
            + "; last / first"
        )
        for name in args.decoders.split(","):
            model = build(name, args.vocab, args.width)
            with torch.no_grad():
                lat = step_latency(model, model.init_state(memory, mask, condition), args.batch, positions)
            results.setdefault(name, {})["step_ms"] = {p: (v * 1e3 if v is not None else None) for p, v in lat.items()}
            first, last = lat[positions[0]], lat[positions[-1]]
            cells = "".join(f"{v * 1e3:>10.2f}" if v is not None else f"{'n/a':>10}" for v in lat.values())
            print(f"{name:<13}{cells}{(last / first if first and last else float('nan')):>9.2f}x")
    if args.out:
        Path(args.out).write_text(json.dumps({"config": vars(args), "results": results}, indent=2))
    rows = [
        {
            "decoder": name,
            "greedy incremental tok/s": round(r["greedy inc"]),
            "greedy recompute tok/s": round(r["greedy re"]),
            "greedy speed-up": round(r["greedy_speedup"], 1),
            "beam incremental tok/s": round(r["beam inc"]),
            "beam recompute tok/s": round(r["beam re"]),
            "beam speed-up": round(r["beam_speedup"], 1),
            **{f"step ms at {p}": round(v, 3) for p, v in r.get("step_ms", {}).items() if v is not None},
        }
        for name, r in results.items()
        if "greedy inc" in r
    ]
    results_file.save(
        args,
        rows,
        settings={k: getattr(args, k) for k in ("batch", "length", "memory", "vocab", "width", "beam", "repeats")},
    )


if __name__ == "__main__":
    main()
