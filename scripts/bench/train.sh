#!/usr/bin/env bash
# LoRA SFT training throughput on CPU: tokenskip-studio (candle) vs PyTorch + peft,
# same model, data, batch, sequence length, LoRA, optimizer and threads.
#
# Usage:  scripts/bench/train.sh
#   Env:  THREADS          CPU threads for both sides (default: nproc)
#         SEQ_LEN          tokens per example, every example exactly this long (default 256)
#         MICRO_BATCH      examples per micro-batch (default 4)
#         GRAD_ACCUM       micro-batches per optimizer step (default 1)
#         STEPS            timed optimizer steps (default 10)
#         WARMUP_STEPS     untimed optimizer steps before them (default 2)
#         TOKENSKIP_CACHE  cache root (default $HOME/.cache/tokenskip-studio): the ~31M Qwen2
#                          model in $TOKENSKIP_CACHE/bench/qwen2-30m (make_bench_model.py), the
#                          data in $TOKENSKIP_CACHE/bench/train-data/ (make_train_data.py)
#         TOKENSKIP_BIN    use this binary instead of building target/release/tokenskip-studio
#         PYTHON           python with torch + transformers + peft (default python3)
#         TIME_BIN         GNU time, for peak RSS (default /usr/bin/time; apt-get install time)
#
# The recipe, on both sides: LoRA r 8, alpha 16, dropout 0 on all seven linears (q,k,v,o,
# gate,up,down), float32, AdamW lr 1e-4 (betas 0.9/0.999, eps 1e-8, weight decay 0), constant
# lr (--warmup-ratio 0, and no step is long enough for the schedule to matter), grad-norm clip
# 1.0, loss on response tokens only. The data: MICRO_BATCH*GRAD_ACCUM*(WARMUP_STEPS+STEPS)
# synthetic records (empty instruction, ~32-token input, output filling the rest), each
# EXACTLY SEQ_LEN tokens after chat template + EOS, so there is no padding and
# tokens/s = input ids processed per second on both sides. One epoch covers them, so each
# record is used once, and every step sees MICRO_BATCH*GRAD_ACCUM*SEQ_LEN tokens.
#
# Ours: `tokenskip-studio --threads T train --model DIR --data FILE --out TMP --overwrite
#   --batch-size MB --grad-accum GA --lora-r 8 --lora-alpha 16 --lr 1e-4 --warmup-ratio 0
#   --epochs 1 --max-steps W+N --save-steps 0 --progress json --cutoff-len SEQ_LEN`
#   under `$TIME_BIN -v`. Timing (the binary's own clock): the progress line of step k carries
#   metrics.tokens_per_s = tokens of steps 1..k / seconds since the loop started, so the
#   loop had run t_k = k * tokens_per_step / tokens_per_s_k seconds at the end of step k;
#   tokens_per_s = N * tokens_per_step / (t_{W+N} - t_W): steps W+1..W+N, warm-up excluded.
#   The checkpoint written after the last step is outside that window. As a cross-check the
#   lines are also timestamped on arrival; that estimate is printed as `arrival tok/s`.
# PyTorch: scripts/bench/train_torch.py (transformers + peft, SDPA attention, model.train(),
#   AdamW(foreach=False)), W untimed steps, then N steps timed with perf_counter each.
# Peak RSS: `$TIME_BIN -v` "Maximum resident set size" of each whole process (model load,
#   tokenization, interpreter and libraries included).
#
# Prints a table; the LAST line is JSON:
#   {"bench":"train","ratio":X,"ours":{"tokens_per_s":..,"peak_rss_mb":..},
#    "torch":{"tokens_per_s":..,"peak_rss_mb":..},"threads":T,"seq_len":..,"micro_batch":..,
#    "steps":..,...}
# with ratio = ours / PyTorch tokens/s (> 1 means we are faster). If a side fails, the ratio
# and that side are null, "error" says why, and the exit status is 1.
# A developer tool: needs Python with torch/transformers/peft; never run by CI.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PYTHON=${PYTHON:-python3}
TIME_BIN=${TIME_BIN:-/usr/bin/time}
THREADS=${THREADS:-$(nproc 2>/dev/null || sysctl -n hw.ncpu)}
SEQ_LEN=${SEQ_LEN:-256}
MICRO_BATCH=${MICRO_BATCH:-4}
GRAD_ACCUM=${GRAD_ACCUM:-1}
STEPS=${STEPS:-10}
WARMUP_STEPS=${WARMUP_STEPS:-2}
LORA_R=8 LORA_ALPHA=16 LR=1e-4
export RAYON_NUM_THREADS=$THREADS OMP_NUM_THREADS=$THREADS MKL_NUM_THREADS=$THREADS
export HF_HUB_OFFLINE=1 TRANSFORMERS_VERBOSITY=error HF_HUB_DISABLE_PROGRESS_BARS=1 TOKENIZERS_PARALLELISM=false

if ! "$TIME_BIN" -v true >/dev/null 2>&1; then
    echo "error: $TIME_BIN -v does not work: install GNU time (apt-get install time) or set TIME_BIN" >&2
    exit 1
fi
TOTAL_STEPS=$((WARMUP_STEPS + STEPS))
RECORDS=$((MICRO_BATCH * GRAD_ACCUM * TOTAL_STEPS))

echo "== bench model" >&2
MODEL_DIR=$("$PYTHON" "$ROOT/scripts/bench/make_bench_model.py" | tail -n 1)
echo "   $MODEL_DIR" >&2
echo "== bench data ($RECORDS records x $SEQ_LEN tokens)" >&2
DATA=$("$PYTHON" "$ROOT/scripts/bench/make_train_data.py" --model "$MODEL_DIR" --seq-len "$SEQ_LEN" \
    --records "$RECORDS" | tail -n 1)
echo "   $DATA" >&2

if [[ -n "${TOKENSKIP_BIN:-}" ]]; then
    BIN=$TOKENSKIP_BIN
else
    echo "== cargo build --release" >&2
    (cd "$ROOT" && cargo build --release --quiet) >&2
    BIN=$ROOT/target/release/tokenskip-studio
fi

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

echo "== ours: $BIN train ($TOTAL_STEPS steps, threads $THREADS)" >&2
OURS_OK=0
# Each stdout line is prefixed with its arrival time (monotonic clock) for the cross-check.
if "$TIME_BIN" -v -o "$TMP/ours.time" "$BIN" --threads "$THREADS" train --model "$MODEL_DIR" \
        --data "$DATA" --out "$TMP/run" --overwrite --batch-size "$MICRO_BATCH" \
        --grad-accum "$GRAD_ACCUM" --lora-r "$LORA_R" --lora-alpha "$LORA_ALPHA" --lr "$LR" \
        --warmup-ratio 0 --epochs 1 --max-steps "$TOTAL_STEPS" --save-steps 0 \
        --progress json --cutoff-len "$SEQ_LEN" 2>"$TMP/ours.err" \
    | "$PYTHON" -u -c '
import sys, time
for line in sys.stdin:
    sys.stdout.write(f"{time.monotonic():.6f}\t{line}")
' >"$TMP/ours.stamped"; then
    OURS_OK=1
else
    echo "   failed: $(tail -n 3 "$TMP/ours.err" | tr '\n' ' ')" >&2
fi
cp "$TMP/run/train_summary.json" "$TMP/ours.summary" 2>/dev/null || true

echo "== PyTorch + peft ($TOTAL_STEPS steps, threads $THREADS)" >&2
TORCH_OK=0
if "$TIME_BIN" -v -o "$TMP/torch.time" "$PYTHON" "$ROOT/scripts/bench/train_torch.py" \
        --model "$MODEL_DIR" --data "$DATA" --seq-len "$SEQ_LEN" --micro-batch "$MICRO_BATCH" \
        --grad-accum "$GRAD_ACCUM" --steps "$STEPS" --warmup-steps "$WARMUP_STEPS" \
        --threads "$THREADS" --lora-r "$LORA_R" --lora-alpha "$LORA_ALPHA" --lr "$LR" \
        >"$TMP/torch.out" 2>"$TMP/torch.err"; then
    TORCH_OK=1
else
    echo "   failed: $(tail -n 3 "$TMP/torch.err" | tr '\n' ' ')" >&2
fi

B_TMP=$TMP OURS_OK=$OURS_OK TORCH_OK=$TORCH_OK THREADS=$THREADS SEQ_LEN=$SEQ_LEN \
MICRO_BATCH=$MICRO_BATCH GRAD_ACCUM=$GRAD_ACCUM STEPS=$STEPS WARMUP_STEPS=$WARMUP_STEPS \
MODEL_DIR=$MODEL_DIR "$PYTHON" - <<'EOF'
import json, os, re, statistics, sys

tmp = os.environ["B_TMP"]
E = {k: int(os.environ[k]) for k in ("THREADS", "SEQ_LEN", "MICRO_BATCH", "GRAD_ACCUM", "STEPS", "WARMUP_STEPS")}
W, N = E["WARMUP_STEPS"], E["STEPS"]
tokens_per_step = E["MICRO_BATCH"] * E["GRAD_ACCUM"] * E["SEQ_LEN"]
errors = []


def read(name):
    try:
        with open(os.path.join(tmp, name)) as f:
            return f.read()
    except OSError:
        return ""


def peak_rss_mb(name):
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", read(name))
    return round(int(m.group(1)) / 1024, 1) if m else None


def tail(name, n=3):
    return " ".join(read(name).strip().splitlines()[-n:])


def ours_result():
    if os.environ["OURS_OK"] != "1":
        errors.append("tokenskip-studio train failed: " + (tail("ours.err") or "no output"))
        return None
    clock, arrival, examples, tokens, trainable = {}, {}, None, None, None
    for line in read("ours.stamped").splitlines():
        stamp, _, text = line.partition("\t")
        try:
            ev = json.loads(text)
        except json.JSONDecodeError:
            continue
        if ev.get("event") == "progress":
            k = ev["done"]
            clock[k] = k * tokens_per_step / ev["metrics"]["tokens_per_s"]
            arrival[k] = float(stamp)
        elif ev.get("event") == "log":
            m = re.match(r"(\d+) examples \((\d+) tokens\), (\d+) trainable", ev["message"])
            if m:
                examples, tokens, trainable = map(int, m.groups())
        elif ev.get("event") == "start":
            arrival[0] = float(stamp)
    clock[0] = 0.0
    if examples is None or tokens != examples * E["SEQ_LEN"]:
        errors.append(f"ours tokenized {tokens} tokens in {examples} examples, not {E['SEQ_LEN']} each: "
                      "the sides would not train on the same sequences")
        return None
    if any(k not in clock for k in range(W, W + N + 1)):
        errors.append(f"ours reported steps {sorted(clock)}, expected up to {W + N}")
        return None
    secs = clock[W + N] - clock[W]
    res = {"tokens_per_s": round(N * tokens_per_step / secs, 2), "peak_rss_mb": peak_rss_mb("ours.time"),
           "step_s": [round(clock[k] - clock[k - 1], 4) for k in range(W + 1, W + N + 1)],
           "trainable_params": trainable}
    if W in arrival and W + N in arrival:
        res["arrival_tokens_per_s"] = round(N * tokens_per_step / (arrival[W + N] - arrival[W]), 2)
    try:
        res["tokens_per_s_incl_warmup"] = round(json.loads(read("ours.summary"))["tokens_per_s"], 2)
    except (json.JSONDecodeError, KeyError):
        pass
    return res


def torch_result():
    if os.environ["TORCH_OK"] != "1":
        errors.append("train_torch.py failed: " + (tail("torch.err") or "no output"))
        return None
    try:
        r = json.loads(read("torch.out").strip().splitlines()[-1])
    except (json.JSONDecodeError, IndexError):
        errors.append("train_torch.py printed no JSON line")
        return None
    return {"tokens_per_s": r["tokens_per_s"], "peak_rss_mb": peak_rss_mb("torch.time"), "step_s": r["step_s"],
            "trainable_params": r["trainable_params"], "versions": r.get("versions")}


ours, torch_ = ours_result(), torch_result()
if ours and torch_ and ours["trainable_params"] != torch_["trainable_params"]:
    errors.append(f"trainable parameters differ: ours {ours['trainable_params']}, torch {torch_['trainable_params']}")


def fmt(r, key, spec):
    v = r.get(key) if r else None
    return format(v, spec) if v is not None else "-"


print(f"{'impl':<20}{'tokens/s':>10}{'arrival tok/s':>15}{'median s/step':>15}{'peak RSS MB':>13}{'trainable':>11}")
for name, r in (("tokenskip-studio", ours), ("pytorch + peft", torch_)):
    med = statistics.median(r["step_s"]) if r else None
    print(f"{name:<20}{fmt(r, 'tokens_per_s', '.1f'):>10}{fmt(r, 'arrival_tokens_per_s', '.1f'):>15}"
          f"{format(med, '.3f') if med is not None else '-':>15}{fmt(r, 'peak_rss_mb', '.1f'):>13}"
          f"{fmt(r, 'trainable_params', 'd'):>11}")

ratio = round(ours["tokens_per_s"] / torch_["tokens_per_s"], 3) if ours and torch_ else None
res = {"bench": "train", "ratio": ratio, "ours": ours, "torch": torch_, "threads": E["THREADS"],
       "seq_len": E["SEQ_LEN"], "micro_batch": E["MICRO_BATCH"], "grad_accum": E["GRAD_ACCUM"],
       "steps": N, "warmup_steps": W, "lora": {"r": 8, "alpha": 16, "dropout": 0, "targets": 7}, "lr": 1e-4,
       "model": os.path.basename(os.environ["MODEL_DIR"]),
       "timing": "steps W+1..W+N; ours from its cumulative tokens_per_s progress metric, torch perf_counter per step"}
if errors:
    res["error"] = "; ".join(errors)
print(json.dumps(res, separators=(",", ":")))
sys.exit(0 if ours and torch_ and not errors else 1)
EOF
