#!/usr/bin/env bash
# Records sessions/demo.jsonl: a guided tour of the workbench on the embedded demo model,
# by driving the real TUI (`tui --record`) in a detached 120x40 tmux.
#
#   scripts/record-demo-session.sh            # rebuilds, records, checks the result
#   BIN=target/release/tokenskip-studio SKIP_BUILD=1 scripts/record-demo-session.sh
#
# After re-recording (e.g. new demo weights), regenerate the golden snapshots and review:
#   INSTA_UPDATE=always cargo test --release --test session_replay
#   git diff tests/snapshots/      # or: cargo insta review
# The tour waits for the screen (model loaded, scoring and generation done) rather than
# sleeping blindly, so it is re-runnable; times and spinner frames differ run to run.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-target/release/tokenskip-studio}
OUT=${OUT:-sessions/demo.jsonl}
if [ -z "${SKIP_BUILD:-}" ]; then cargo build --release; fi
command -v tmux >/dev/null || { echo "tmux is needed (apt-get install tmux)" >&2; exit 1; }

SOCK=tokenskip-demo-$$
CONF=$(mktemp)
LOG=$(mktemp)
printf 'set -g status off\nset -g escape-time 0\n' > "$CONF"
cleanup() { tmux -L "$SOCK" kill-server 2>/dev/null || true; rm -f "$CONF"; }
trap cleanup EXIT
tmux -L "$SOCK" -f "$CONF" new-session -d -s demo -x 120 -y 40 \
  "env TERM=xterm-256color COLORTERM=truecolor $BIN --log-file $LOG tui --model demo --theme dark --record $OUT.part; sleep 2"

screen() { tmux -L "$SOCK" capture-pane -p -t demo; }
# wait_for TEXT [SECONDS]: until the screen shows TEXT.
wait_for() {
  local deadline=$((SECONDS + ${2:-120}))
  until screen | grep -qF -- "$1"; do
    if [ $SECONDS -ge $deadline ]; then echo "timed out waiting for: $1" >&2; screen >&2; exit 1; fi
    sleep 0.2
  done
}
# wait_gone TEXT [SECONDS]: until the screen no longer shows TEXT.
wait_gone() {
  local deadline=$((SECONDS + ${2:-300}))
  while screen | grep -qF -- "$1"; do
    if [ $SECONDS -ge $deadline ]; then echo "timed out waiting for $1 to end" >&2; exit 1; fi
    sleep 0.2
  done
}
key() { tmux -L "$SOCK" send-keys -t demo "$@"; sleep "${PAUSE:-0.8}"; }
idle() { wait_gone "scoring"; wait_gone "generating"; wait_gone "· writing"; sleep 0.6; }

wait_for "model demo loaded" 180
idle
# 1. Questions: move through the list; each reference CoT is scored and heat-coloured.
key j; idle; key j; idle; key k; idle
# 2. The ratio slider: 1.0 down to 0.5; only re-thresholds, no model call.
key 0
for _ in 1 2 3 4 5 6 7 8 9 10; do PAUSE=0.35 key '<'; done
sleep 1
# 3. Scorers: rules -> model-based ones (surprisal on the demo model) and back.
key s; idle; key s; idle
# 4. Word / token granularity.
key w; idle; key w; idle
# 5. The token inspector: move the cursor over a few tokens.
for _ in 1 2 3 4 5 6; do PAUSE=0.3 key l; done
sleep 1
# 6. Generate with the model at the current gamma (TokenSkip prompt).
key G; idle
sleep 1.5
# 7. Charts pane and the help overlay.
key c; sleep 1; key c
key '?'; sleep 2; key Escape
# 8. Quit.
key q
sleep 1
mv "$OUT.part" "$OUT"
"$BIN" replay "$OUT" --strict --export html --out /dev/null >/dev/null 2>&1 || {
  echo "the recorded session does not replay: $OUT" >&2; exit 1; }
echo "recorded $OUT: $(($(wc -l < "$OUT") - 1)) actions, $(wc -c < "$OUT") bytes"
