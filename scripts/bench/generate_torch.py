#!/usr/bin/env python3
"""PyTorch-eager half of scripts/bench/generate.sh: prefill and decode throughput on CPU.

Usage:
    python3 scripts/bench/generate_torch.py --model DIR [--prompt-len 512]
        [--new-tokens 128] [--threads N] [--repeats 3]

Prints ONE JSON line: {"prefill_tok_s":X,"decode_tok_s":Y,...}.

What is measured (the Rust `bench-generate` subcommand measures the same):
  prefill: one forward pass over the prompt (prompt-len tokens) that fills the KV cache
           and computes the logits of the last position only (logits_to_keep=1, as
           transformers' generate does) plus its argmax;  prefill_tok_s = prompt_len / t.
  decode:  new-tokens steps, each one forward of the single last token with the KV cache
           plus argmax (greedy);  decode_tok_s = new_tokens / t.
The prompt is a fixed pseudo-random id sequence (seed 0) inside the tokenizer's ids.
One untimed warm-up run, then the best of --repeats runs for each phase.
float32, torch.inference_mode, eager mode (no torch.compile) with transformers' default
SDPA attention (the faster of its two CPU attention paths), torch.set_num_threads(N).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--prompt-len", type=int, default=512)
    ap.add_argument("--new-tokens", type=int, default=128)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

    import torch
    from transformers import AutoModelForCausalLM, DynamicCache

    torch.set_num_threads(args.threads)
    model = AutoModelForCausalLM.from_pretrained(args.model, dtype=torch.float32, attn_implementation="sdpa").eval()
    g = torch.Generator().manual_seed(0)
    hi = min(model.config.vocab_size, 480)  # stay inside the fixture tokenizer's ids
    prompt = torch.randint(3, hi, (1, args.prompt_len), generator=g)

    @torch.inference_mode()
    def run():
        cache = DynamicCache(config=model.config)
        t0 = time.perf_counter()
        out = model(input_ids=prompt, past_key_values=cache, use_cache=True, logits_to_keep=1)
        nxt = out.logits[:, -1].argmax(-1, keepdim=True)
        t1 = time.perf_counter()
        ids = []
        for _ in range(args.new_tokens):
            out = model(input_ids=nxt, past_key_values=cache, use_cache=True)
            nxt = out.logits[:, -1].argmax(-1, keepdim=True)
            ids.append(int(nxt))
        t2 = time.perf_counter()
        return t1 - t0, t2 - t1, ids

    run()  # warm-up
    pre, dec = [], []
    for _ in range(args.repeats):
        p, d, _ids = run()
        pre.append(p)
        dec.append(d)
    res = {
        "prefill_tok_s": round(args.prompt_len / min(pre), 2),
        "decode_tok_s": round(args.new_tokens / min(dec), 2),
        "prefill_s": [round(x, 4) for x in pre],
        "decode_s": [round(x, 4) for x in dec],
        "threads": args.threads,
        "torch": torch.__version__,
        "impl": "pytorch-eager+sdpa",
    }
    print(json.dumps(res, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
