#!/usr/bin/env bash
# The CUDA path, measured, in under 8 minutes on one GPU:
#   bash scripts/gpu_check.sh [OUT]          # default OUT: docs/gpu
# 1. the CUDA-marked tests (tests/test_cuda.py: cuDNN against torch.nn, one weight buffer, 16-mixed and
#    bf16-mixed steps of every family, trainer=gpu and one-GPU ddp end to end);
# 2. bench_backbones.py, bench_train.py (with throughput against length), bench_long.py and
#    bench_compile.py on CUDA.
# Every step writes JSON and its printed table (markdown) under OUT, with the card's name in card.txt; a
# step that fails or runs out of its time is recorded in OUT/summary.md and the others still run.
# DEVICE=cpu QUICK=1 runs the same steps at toy sizes on a CPU (what the test suite checks).
# STEPS="cuda_tests" runs only the steps named (so other GPU work can share the test step but not a timing);
# APPEND=1 adds to OUT/summary.md instead of starting it; WORKERS test processes (8 on a GPU) share it;
# LIMIT=N gives each benchmark N seconds instead of its own limit below.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-docs/gpu}
DEVICE=${DEVICE:-cuda}
PY=${PYTHON:-python}
STEPS=${STEPS:-cuda_tests bench_backbones bench_train bench_long bench_compile}
mkdir -p "$OUT"
if [ "${QUICK:-0}" = 1 ]; then
  BACKBONES="--batch 4 --length 16 --repeats 2 --iters 1"
  TRAIN="--models gru,tcn --steps 4 --warmup 1 --repeats 1 --lengths 16,32 --batch-for-lengths 2"
  LONG="--models gru,mingru --lengths 16,32 --rounds 2 --width 16"
  COMPILE="--families gru --length 16 --steps 4 --repeats 2"
  LIMITS="300 300 300 300 300"
else
  BACKBONES="--batch 64 --length 256 --repeats 3 --iters 2"   # the readable loops take ~0.5 s a call on a GPU
  TRAIN="--steps 30 --repeats 2 --lengths 256,1024,4096"
  # every family, and Mamba with the step-by-step loop inside its chunks beside its parallel scan
  LONG="--models $($PY -c "from seqzoo.configs import config_options; print(','.join(config_options('model')))"),mamba:parallel=false --lengths 256,1024,4096,16384"
  COMPILE="--repeats 3"
  # seconds per step, 8 minutes in all; on an H200 the tests took 71 s (8 workers), backbones 32, train 49,
  # long 32, and compile 10-20 s per family and part (the longest: it gets what is left)
  LIMITS="120 45 70 50 195"
fi
[ -n "${LIMIT:-}" ] && LIMITS="${LIMITS%% *} $LIMIT $LIMIT $LIMIT $LIMIT"   # LIMIT=N: N seconds for each benchmark
read -r T_TESTS T_BACKBONES T_TRAIN T_LONG T_COMPILE <<< "$LIMITS"

if [ "$DEVICE" = cuda ]; then
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader > "$OUT/card.txt"
else
  echo "cpu ($(nproc) cores)" > "$OUT/card.txt"
fi
[ "${APPEND:-0}" = 1 ] || echo "# GPU check on $(cat "$OUT/card.txt"), $(date -u +%Y-%m-%d)" > "$OUT/summary.md"

step() {  # step NAME SECONDS COMMAND...: run with a time limit, keep its output, note how it ended
  local name=$1 limit=$2
  shift 2
  [[ " $STEPS " == *" $name "* ]] || return 0
  local start=$SECONDS
  timeout "$limit" "$@" > "$OUT/$name.md" 2>"$OUT/$name.log"
  local rc=$?
  local how="passed"
  [ $rc -eq 124 ] && how="stopped at its ${limit} s limit"
  [ $rc -ne 0 ] && [ $rc -ne 124 ] && how="failed (exit $rc; see $name.log)"
  echo "- $name: $how in $((SECONDS - start)) s" | tee -a "$OUT/summary.md"
}

WORKERS=${WORKERS:-$([ "$DEVICE" = cuda ] && echo 8 || echo 2)}
XDIST=""
$PY -c "import xdist" 2>/dev/null && [ "$WORKERS" -gt 1 ] && XDIST="-n $WORKERS"
step cuda_tests "$T_TESTS" $PY -m pytest -m cuda -q -rs -p no:cacheprovider $XDIST tests/test_cuda.py
step bench_backbones "$T_BACKBONES" $PY scripts/bench_backbones.py --device "$DEVICE" $BACKBONES --out "$OUT/bench_backbones.json"
step bench_train "$T_TRAIN" $PY scripts/bench_train.py --device "$DEVICE" $TRAIN --plot "$OUT/throughput_vs_length.png" --out "$OUT/bench_train.json"
step bench_long "$T_LONG" $PY scripts/bench_long.py --device "$DEVICE" $LONG --out "$OUT/bench_long.json"
step bench_compile "$T_COMPILE" $PY scripts/bench_compile.py --device "$DEVICE" $COMPILE --out "$OUT/bench_compile.json"
cat "$OUT/summary.md"
