#!/usr/bin/env bash
# Surprisal scoring speed on CPU: tokenskip-studio (candle) vs PyTorch eager, same model,
# same text, same threads.
#
# Usage:  scripts/bench/score.sh
#   Env:  THREADS          CPU threads for both sides (default: nproc)
#         TOKENS           approximate text length in tokens (default 1024; the bench
#                          model's window is 2048, so the text is one forward pass)
#         REPEATS          timed runs after one warm-up, best reported (default 3)
#         TOKENSKIP_CACHE  cache root (default $HOME/.cache/tokenskip-studio); the random
#                          ~31M Qwen2 model of scripts/bench/make_bench_model.py lives there
#         TOKENSKIP_BIN    use this binary instead of building target/release/tokenskip-studio
#         PYTHON           python with torch + transformers + tokenizers (default python3)
#
# Steps: make or reuse the bench model, write a deterministic CoT-like text of ~TOKENS
# tokens, build the release binary, run `tokenskip-studio bench-score --model DIR
# --text-file F --threads T` (end to end: tokenize, forward, log-softmax, -log p of each
# token, projection onto the target tokens), run scripts/bench/score_torch.py (tokenize,
# forward, log-softmax, gather), print a table. Both report sum_nll: they must agree.
# The LAST line is JSON:
#   {"bench":"score","ratio":X,"ours":{...},"torch":{...},"threads":N,"tokens":N,...}
# with ratio = ours / PyTorch tokens/s (> 1 means we are faster). If a side fails, the
# ratio is null, "error" says why, and the exit status is 1.
# A developer tool: needs Python with torch/transformers; never run by CI.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PYTHON=${PYTHON:-python3}
THREADS=${THREADS:-$(nproc 2>/dev/null || sysctl -n hw.ncpu)}
TOKENS=${TOKENS:-1024}
REPEATS=${REPEATS:-3}
export RAYON_NUM_THREADS=$THREADS OMP_NUM_THREADS=$THREADS MKL_NUM_THREADS=$THREADS
export HF_HUB_OFFLINE=1 TRANSFORMERS_VERBOSITY=error HF_HUB_DISABLE_PROGRESS_BARS=1

echo "== bench model" >&2
MODEL_DIR=$("$PYTHON" "$ROOT/scripts/bench/make_bench_model.py" | tail -n 1)
echo "   $MODEL_DIR" >&2

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
TEXT=$TMP/cot.txt
"$PYTHON" - "$MODEL_DIR/tokenizer.json" "$TOKENS" "$TEXT" <<'PYEOF'
import sys
from tokenizers import Tokenizer
tok, want, out = Tokenizer.from_file(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
steps, text, k = [], "", 0
while len(tok.encode(text, add_special_tokens=False).ids) < want:
    k += 1
    a, b = 7 * k % 97 + 3, 3 * k % 41 + 2
    steps.append(f"Step {k}: Janet has {a} eggs and buys {b} more, so she now has {a} + {b} = {a + b} eggs in total.")
    text = "\n".join(steps)
open(out, "w", encoding="utf-8").write(text)
PYEOF

if [[ -n "${TOKENSKIP_BIN:-}" ]]; then
    BIN=$TOKENSKIP_BIN
else
    echo "== cargo build --release" >&2
    (cd "$ROOT" && cargo build --release --quiet) >&2
    BIN=$ROOT/target/release/tokenskip-studio
fi

echo "== ours: $BIN bench-score (threads $THREADS)" >&2
OURS_ERR=$TMP/ours.err
OURS=""
if OUT=$("$BIN" bench-score --model "$MODEL_DIR" --text-file "$TEXT" --repeats "$REPEATS" \
        --threads "$THREADS" --log-file "$TMP/log" 2>"$OURS_ERR"); then
    OURS=$(printf '%s\n' "$OUT" | grep '^{' | tail -n 1 || true)
fi
[[ -n "$OURS" ]] || echo "   failed: $(tail -n 3 "$OURS_ERR" | tr '\n' ' ')" >&2

echo "== PyTorch eager (threads $THREADS)" >&2
TORCH=$("$PYTHON" "$ROOT/scripts/bench/score_torch.py" --model "$MODEL_DIR" --text-file "$TEXT" \
    --repeats "$REPEATS" --threads "$THREADS" 2>/dev/null | tail -n 1 || true)

OURS_JSON=$OURS OURS_ERRTXT=$(tail -n 3 "$OURS_ERR" 2>/dev/null || true) TORCH_JSON=$TORCH \
THREADS=$THREADS MODEL_DIR=$MODEL_DIR "$PYTHON" - <<'EOF2'
import json, os, sys

def load(s):
    try:
        return json.loads(s) if s.strip() else None
    except json.JSONDecodeError:
        return None

ours, torch_ = load(os.environ["OURS_JSON"]), load(os.environ["TORCH_JSON"])
print(f"{'impl':<18}{'tokens':>8}{'tok/s':>12}{'sum -log p':>14}")
for name, r in [("tokenskip-studio", ours), ("pytorch eager", torch_)]:
    if r:
        print(f"{name:<18}{r['tokens']:>8}{r['tok_s']:>12.1f}{r['sum_nll']:>14.3f}")
    else:
        print(f"{name:<18}{'-':>8}{'-':>12}{'-':>14}")
res = {"bench": "score", "ratio": None, "ours": ours, "torch": torch_,
       "threads": int(os.environ["THREADS"]), "tokens": (ours or torch_ or {}).get("tokens"),
       "model": os.path.basename(os.environ["MODEL_DIR"])}
errors = []
if ours is None:
    errors.append("tokenskip-studio bench-score failed: " + (os.environ.get("OURS_ERRTXT") or "no JSON line").strip())
if torch_ is None:
    errors.append("score_torch.py failed")
if ours and torch_:
    res["ratio"] = round(ours["tok_s"] / torch_["tok_s"], 3)
    res["sum_nll_rel_diff"] = abs(ours["sum_nll"] - torch_["sum_nll"]) / max(abs(torch_["sum_nll"]), 1e-9)
    if ours["tokens"] != torch_["tokens"]:
        errors.append(f"token counts differ: {ours['tokens']} vs {torch_['tokens']}")
    elif res["sum_nll_rel_diff"] > 1e-3:
        errors.append("the two sides computed different -log p")
if errors:
    res["error"] = "; ".join(errors)
print(json.dumps(res, separators=(",", ":")))
sys.exit(1 if errors else 0)
EOF2
