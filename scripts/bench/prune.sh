#!/usr/bin/env bash
# Prune throughput: score once and threshold every ratio (ours) vs re-scoring per ratio, as
# the reference code calls its compressor once per gamma. Same scorer, same CoTs.
#
# Usage:  scripts/bench/prune.sh [GSM8K_TRAIN_JSONL]
#   Env:  SCORERS   space-separated scorer specs (default: "rules surprisal:demo")
#         LIMIT     CoTs to use (default 7473 = all of GSM8K train; lower it for a quick run)
#         RATIOS    default 0.9,0.8,0.7,0.6,0.5
#         THREADS   CPU threads (default: nproc)
#         MODEL     target model (default demo)
#         TOKENSKIP_BIN  use this binary instead of building target/release/tokenskip-studio
# Prints one line per scorer and, LAST, JSON:
#   {"bench":"prune","speedup_vs_rescoring":X,"cots_per_s":Y,"scorer_passes_per_cot":1,...}
# where X and Y are for the last scorer in SCORERS (the model-based one by default).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DATA=${1:-$ROOT/../shared/data/gsm8k/train.jsonl}
SCORERS=${SCORERS:-"rules surprisal:demo"}
LIMIT=${LIMIT:-7473}
RATIOS=${RATIOS:-0.9,0.8,0.7,0.6,0.5}
THREADS=${THREADS:-$(nproc)}
MODEL=${MODEL:-demo}
if [[ -z "${TOKENSKIP_BIN:-}" ]]; then
    (cd "$ROOT" && cargo build --release --quiet) >&2
    BIN=$ROOT/target/release/tokenskip-studio
else
    BIN=$TOKENSKIP_BIN
fi
[[ -f "$DATA" ]] || { echo "GSM8K train file not found: $DATA" >&2; exit 1; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
run() { # scorer, out, extra...
    local scorer=$1 out=$2; shift 2
    "$BIN" --threads "$THREADS" prune --model "$MODEL" --dataset "gsm8k:$DATA" --cot-source dataset \
        --limit "$LIMIT" --scorer "$scorer" --ratios "$RATIOS" --out "$out" --progress quiet "$@" | tail -n 1
}
LAST=""
printf '%-22s %10s %12s %10s %12s %8s\n' scorer cots once_s rescore_s cots_per_s speedup >&2
for s in $SCORERS; do
    ONCE=$(run "$s" "$TMP/once-${s//[:\/]/_}")
    RESC=$(run "$s" "$TMP/resc-${s//[:\/]/_}" --rescore-per-ratio)
    if ! cmp -s "$TMP/once-${s//[:\/]/_}/pruned.jsonl" "$TMP/resc-${s//[:\/]/_}/pruned.jsonl"; then
        echo "warning: $s gave different records when re-scored per ratio" >&2
    fi
    LAST=$(ONCE="$ONCE" RESC="$RESC" SCORER="$s" python3 - <<'PY'
import json, os
o, r = json.loads(os.environ["ONCE"]), json.loads(os.environ["RESC"])
print(json.dumps({"scorer": os.environ["SCORER"], "cots": o["cots"], "once_s": o["seconds"],
    "rescore_s": r["seconds"], "cots_per_s": o["cots_per_s"],
    "speedup_vs_rescoring": r["seconds"] / max(o["seconds"], 1e-9),
    "scorer_passes_per_cot": o["scorer_passes_per_cot"],
    "rescoring_passes_per_cot": r["scorer_passes_per_cot"]}))
PY
)
    echo "$LAST" | python3 -c 'import json,sys; d=json.load(sys.stdin); print("%-22s %10d %12.2f %10.2f %12.1f %8.2f" % (d["scorer"], d["cots"], d["once_s"], d["rescore_s"], d["cots_per_s"], d["speedup_vs_rescoring"]))' >&2
done
echo "$LAST" | python3 -c 'import json,sys; d=json.load(sys.stdin); d["bench"]="prune"; d["threads"]='"$THREADS"'; d["ratios"]="'"$RATIOS"'"; print(json.dumps(d))'
