#!/usr/bin/env bash
# Generation speed on CPU: tokenskip-studio (candle) vs PyTorch eager, same threads.
#
# Usage:  scripts/bench/generate.sh
#   Env:  THREADS          CPU threads for both sides (default: nproc)
#         PROMPT_LEN       prompt tokens for prefill (default 512)
#         NEW_TOKENS       greedy tokens for decode (default 128)
#         TOKENSKIP_CACHE  cache root (default $HOME/.cache/tokenskip-studio); the
#                          random ~31M Qwen2 model lives in $TOKENSKIP_CACHE/bench/qwen2-30m
#         TOKENSKIP_BIN    use this binary instead of building target/release/tokenskip-studio
#         PYTHON           python with torch + transformers (default python3)
#
# Steps: make or reuse the bench model (scripts/bench/make_bench_model.py), build the
# release binary, run `tokenskip-studio bench-generate --model DIR --prompt-len N
# --new-tokens M --threads T` (prints one JSON line {"prefill_tok_s":X,"decode_tok_s":Y}),
# run scripts/bench/generate_torch.py (warm-up, best of 3), print a table.
# The LAST line is JSON:
#   {"bench":"generate","prefill_ratio":X,"decode_ratio":Y,"ours":{...},"torch":{...},"threads":N,...}
# with ratio = ours / PyTorch (> 1 means we are faster). If our side fails, the ratios
# and "ours" are null, "error" says why, and the exit status is 1.
# A developer tool: needs Python with torch/transformers; never run by CI.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PYTHON=${PYTHON:-python3}
THREADS=${THREADS:-$(nproc 2>/dev/null || sysctl -n hw.ncpu)}
PROMPT_LEN=${PROMPT_LEN:-512}
NEW_TOKENS=${NEW_TOKENS:-128}
export RAYON_NUM_THREADS=$THREADS OMP_NUM_THREADS=$THREADS MKL_NUM_THREADS=$THREADS
export HF_HUB_OFFLINE=1 TRANSFORMERS_VERBOSITY=error HF_HUB_DISABLE_PROGRESS_BARS=1

echo "== bench model" >&2
MODEL_DIR=$("$PYTHON" "$ROOT/scripts/bench/make_bench_model.py" | tail -n 1)
echo "   $MODEL_DIR" >&2

if [[ -n "${TOKENSKIP_BIN:-}" ]]; then
    BIN=$TOKENSKIP_BIN
else
    echo "== cargo build --release" >&2
    (cd "$ROOT" && cargo build --release --quiet) >&2
    BIN=$ROOT/target/release/tokenskip-studio
fi

echo "== ours: $BIN bench-generate (threads $THREADS)" >&2
OURS_ERR=$(mktemp)
trap 'rm -f "$OURS_ERR"' EXIT
OURS=""
if OUT=$("$BIN" bench-generate --model "$MODEL_DIR" --prompt-len "$PROMPT_LEN" \
        --new-tokens "$NEW_TOKENS" --threads "$THREADS" 2>"$OURS_ERR"); then
    OURS=$(printf '%s\n' "$OUT" | grep '^{' | tail -n 1 || true)
fi
if [[ -z "$OURS" ]]; then
    echo "   failed: $(tail -n 3 "$OURS_ERR" | tr '\n' ' ')" >&2
fi

echo "== PyTorch eager (threads $THREADS)" >&2
TORCH=$("$PYTHON" "$ROOT/scripts/bench/generate_torch.py" --model "$MODEL_DIR" \
    --prompt-len "$PROMPT_LEN" --new-tokens "$NEW_TOKENS" --threads "$THREADS" 2>/dev/null | tail -n 1)

OURS_JSON=$OURS OURS_ERRTXT=$(tail -n 3 "$OURS_ERR" 2>/dev/null || true) TORCH_JSON=$TORCH \
THREADS=$THREADS PROMPT_LEN=$PROMPT_LEN NEW_TOKENS=$NEW_TOKENS MODEL_DIR=$MODEL_DIR \
"$PYTHON" - <<'EOF'
import json, os, sys

def load(s):
    try:
        return json.loads(s) if s.strip() else None
    except json.JSONDecodeError:
        return None

ours, torch_ = load(os.environ["OURS_JSON"]), load(os.environ["TORCH_JSON"])
threads = int(os.environ["THREADS"])
rows = [("tokenskip-studio", ours), ("pytorch eager", torch_)]
print(f"{'impl':<18}{'prefill tok/s':>15}{'decode tok/s':>14}")
for name, r in rows:
    p = f"{r['prefill_tok_s']:.1f}" if r else "-"
    d = f"{r['decode_tok_s']:.1f}" if r else "-"
    print(f"{name:<18}{p:>15}{d:>14}")

def ratio(key):
    if ours and torch_ and torch_.get(key):
        return round(ours[key] / torch_[key], 3)
    return None

res = {"bench": "generate", "prefill_ratio": ratio("prefill_tok_s"), "decode_ratio": ratio("decode_tok_s"),
       "ours": ours, "torch": torch_, "threads": threads,
       "prompt_len": int(os.environ["PROMPT_LEN"]), "new_tokens": int(os.environ["NEW_TOKENS"]),
       "model": os.path.basename(os.environ["MODEL_DIR"])}
if ours is None:
    res["error"] = "tokenskip-studio bench-generate failed: " + (os.environ.get("OURS_ERRTXT") or "no JSON line").strip()
if torch_ is None:
    res["error"] = (res.get("error", "") + "; generate_torch.py failed").lstrip("; ")
print(json.dumps(res, separators=(",", ":")))
sys.exit(0 if ours and torch_ else 1)
EOF
