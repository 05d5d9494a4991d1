#!/usr/bin/env bash
# Trains the embedded demo model (assets/demo/) from scratch on the synthetic demo world, on
# CPU, with `tokenskip-studio train`, then measures its accuracy on the 500 held-out problems.
#
# Usage: scripts/train-demo.sh [WORK_DIR]      (default WORK_DIR: target/demo-train)
#   Env: THREADS (default nproc), INSTALL=1 to copy the result into assets/demo/.
#
# Two stages, as the committed model was made (the first run was stopped at step 225 of its
# 875-step schedule to fit the session's time, and continued with a fresh schedule):
#   1. from scratch: the first 225 steps of a 1.4-epoch cosine run (lr 2e-3, warmup 3%);
#   2. all weights, 350 more steps of a new cosine schedule (lr 1.7e-3, warmup 6%).
# Every step is deterministic (seeded data order and init; a resumed run is bit-identical), so
# this script reproduces the committed weights on the same thread count.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
W=${1:-$ROOT/target/demo-train}
THREADS=${THREADS:-$(nproc)}
cd "$ROOT"
cargo build --release --quiet
T="target/release/tokenskip-studio --threads $THREADS"
mkdir -p "$W"
start=$(date +%s)
$T train --init scripts/demo/config.json --tokenizer assets/demo --data synthetic:20000 \
    --out "$W/stage1" --resume --epochs 1.4 --batch-size 32 --grad-accum 1 --lr 2e-3 \
    --warmup-ratio 0.03 --weight-decay 0.01 --save-steps 25 --seed 1 --stop-after 225
cp assets/demo/tokenizer.json assets/demo/tokenizer_config.json "$W/stage1/"
$T train --model "$W/stage1" --full --data synthetic:20000 --out "$W/stage2" --resume \
    --epochs 2 --max-steps 350 --batch-size 32 --grad-accum 1 --lr 1.7e-3 --warmup-ratio 0.06 \
    --weight-decay 0.01 --save-steps 25 --seed 2
echo "training took $(( $(date +%s) - start )) s" >&2
$T eval --model "$W/stage2" --dataset synthetic-test:500 --ratios 1.0 --batch-size 32 \
    --out "$W/eval" --overwrite
if [[ "${INSTALL:-0}" == 1 ]]; then
    cp "$W/stage2/config.json" "$W/stage2/model.safetensors" assets/demo/
    echo "installed into assets/demo/ (rebuild to embed it)" >&2
fi
