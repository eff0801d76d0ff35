"""The linear scan of minGRU/minLSTM with and without blocks (``layers/linear_scan.py: BLOCK``), side by side.

    python scripts/bench_scan_blocks.py                 # T = 1024, 4096, 16384; one thread
    python scripts/bench_scan_blocks.py --lengths 65536 --rounds 3

Times forward + backward of ``linear_scan`` on (B, T, H) gates, the two settings taking turns in each round;
prints milliseconds per 1,000 tokens (median over rounds) and the ratio unblocked / blocked.
"""

import argparse
import time

import torch

from seqzoo.layers import linear_scan as scan


def once(T: int, block: int, batch: int, width: int) -> float:
    a = torch.rand(batch, T, width, requires_grad=True)  # (B, T, H)
    b = torch.randn(batch, T, width, requires_grad=True)
    scan.BLOCK = block
    start = time.perf_counter()
    scan.linear_scan(a, b).sum().backward()
    return time.perf_counter() - start


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--lengths", default="1024,4096,16384")
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--width", type=int, default=128)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    blocked, whole = scan.BLOCK, 1 << 62
    print(
        f"linear scan, forward + backward, batch {args.batch}, width {args.width}, {args.threads} thread(s): "
        f"ms per 1,000 tokens, median of {args.rounds}"
    )
    print(f"| T | blocks of {blocked} | one block | one block / blocks |\n|---|---|---|---|")
    for T in map(int, args.lengths.split(",")):
        times = {blocked: [], whole: []}
        for _ in range(args.rounds):
            for block, runs in times.items():
                runs.append(once(T, block, args.batch, args.width))
        ms = {k: 1e6 * sorted(v)[len(v) // 2] / (T * args.batch) for k, v in times.items()}
        print(f"| {T} | {ms[blocked]:.2f} | {ms[whole]:.2f} | {ms[whole] / ms[blocked]:.2f}x |", flush=True)
    scan.BLOCK = blocked


if __name__ == "__main__":
    main()
