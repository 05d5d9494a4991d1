#!/usr/bin/env python3
"""PyTorch-eager half of scripts/bench/score.sh: surprisal scoring throughput on CPU.

Usage:
    python3 scripts/bench/score_torch.py --model DIR --text-file F [--threads N] [--repeats 3]

Prints ONE JSON line: {"tok_s":X,"tokens":N,"sum_nll":S,...}.

What is measured (the Rust `bench-score` subcommand measures the same, end to end):
tokenize the text (tokenizers, no special tokens), one forward pass over all of it
(float32, torch.inference_mode, transformers' default SDPA attention, all positions'
logits), log-softmax in float32, gather -log p of each next token; tok_s = tokens / t.
sum_nll (over tokens 1..n-1) must agree with ours to ~1e-2 (same numbers, different
summation order). One untimed warm-up, then the best of --repeats runs.
"""

from __future__ import annotations

import argparse
import json
import os
import time


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--text-file", required=True)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

    import torch
    from tokenizers import Tokenizer
    from transformers import AutoModelForCausalLM

    torch.set_num_threads(args.threads)
    model = AutoModelForCausalLM.from_pretrained(args.model, dtype=torch.float32, attn_implementation="sdpa").eval()
    tok = Tokenizer.from_file(os.path.join(args.model, "tokenizer.json"))
    text = open(args.text_file, encoding="utf-8").read()

    @torch.inference_mode()
    def run():
        t0 = time.perf_counter()
        ids = torch.tensor([tok.encode(text, add_special_tokens=False).ids])
        logits = model(input_ids=ids).logits[0, :-1].float()
        nll = -torch.log_softmax(logits, dim=-1).gather(1, ids[0, 1:, None])[:, 0]
        s = float(nll.sum())
        return time.perf_counter() - t0, ids.shape[1], s

    _, n, s = run()
    best = min(run()[0] for _ in range(args.repeats))
    print(json.dumps({"tok_s": round(n / best, 2), "tokens": n, "best_s": round(best, 4), "sum_nll": s,
                      "threads": args.threads, "torch": torch.__version__}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
