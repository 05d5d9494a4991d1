#!/usr/bin/env python3
"""Share of correct `a op b = c` equations per operator in an eval's samples.jsonl.

Usage: scripts/equation-accuracy.py OUT/samples.jsonl
Used to see where the demo model's errors are (assets/demo/README.md): every equation the
model wrote is recomputed, whatever the final answer.
"""
import json
import re
import sys

EQ = re.compile(r"(\d+) ([-+*/]) (\d+) = (\d+)")
ok, total = {}, {}
for line in open(sys.argv[1], encoding="utf-8"):
    if not line.strip():
        continue
    for a, op, b, c in EQ.findall(json.loads(line)["cot"]):
        a, b, c = int(a), int(b), int(c)
        want = {"+": a + b, "-": a - b, "*": a * b, "/": a / b if b else None}[op]
        total[op] = total.get(op, 0) + 1
        ok[op] = ok.get(op, 0) + (want == c)
for op in sorted(total):
    print(f"{op}  {ok[op]:5d} / {total[op]:5d}  {100 * ok[op] / total[op]:5.1f}%")
print(f"all {sum(ok.values()):5d} / {sum(total.values()):5d}  {100 * sum(ok.values()) / sum(total.values()):5.1f}%")
