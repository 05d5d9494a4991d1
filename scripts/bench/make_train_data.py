#!/usr/bin/env python3
"""Make (or reuse) the fixed-length SFT data used by scripts/bench/train.sh.

Usage:
    python3 scripts/bench/make_train_data.py --model DIR [--seq-len 256]
        [--input-tokens 32] [--records 64] [--seed 0] [--out FILE]

Default FILE: ${TOKENSKIP_CACHE:-$HOME/.cache/tokenskip-studio}/bench/train-data/
              <model dir name>-L<seq-len>-in<input-tokens>-n<records>-s<seed>.jsonl
Prints FILE as its last line. Idempotent: an existing FILE is reused as is (the name holds
every parameter); it is written atomically, so a half-written file is never reused.

Each line is an alpaca record {"instruction": "", "input": ..., "output": ...} whose
tokenized length is EXACTLY --seq-len, counted the way both trainers in the benchmark build
an example: the chat-templated prompt (the model's template, one user turn holding `input`,
generation prompt appended), then the `output` ids, then the EOS id. So a micro-batch has no
padding, and "tokens" means the same thing on both sides.

Text: words drawn (seeded) from the tokenizer's own vocabulary, only words that encode to
exactly one token as " word", so `input` of k words is k tokens and `output` of m words is m
tokens (the byte-level pre-tokenizer splits before each space). `input` gets --input-tokens
words, fewer for short --seq-len (at most a quarter of what the template leaves), and
`output` fills the rest. Every record is re-encoded and checked before the file is written.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def default_out(model: Path, seq_len: int, input_tokens: int, records: int, seed: int) -> Path:
    cache = os.environ.get("TOKENSKIP_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "tokenskip-studio")
    name = f"{model.resolve().name}-L{seq_len}-in{input_tokens}-n{records}-s{seed}.jsonl"
    return Path(cache) / "bench" / "train-data" / name


def example_ids(tok, rec: dict) -> tuple[list[int], int]:
    """Token ids and prompt length of a record, as tokenskip-studio's train builds them
    (pipeline/train/data.rs: chat prompt, output, EOS) and train_torch.py uses them."""
    user = rec["input"] if not rec["instruction"] else (
        rec["instruction"] if not rec["input"] else f"{rec['instruction']}\n{rec['input']}")
    prompt = tok.apply_chat_template([{"role": "user", "content": user}], tokenize=False,
                                     add_generation_prompt=True)
    ids = tok(prompt, add_special_tokens=False).input_ids
    n_prompt = len(ids)
    ids = ids + tok(rec["output"], add_special_tokens=False).input_ids + [tok.eos_token_id]
    return ids, n_prompt


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, required=True, help="model dir with tokenizer.json + tokenizer_config.json")
    ap.add_argument("--seq-len", type=int, default=256)
    ap.add_argument("--input-tokens", type=int, default=32)
    ap.add_argument("--records", type=int, default=64)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    out = args.out or default_out(args.model, args.seq_len, args.input_tokens, args.records, args.seed)
    if out.is_file():
        print("reusing existing bench train data", file=sys.stderr)
        print(out)
        return 0

    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(args.model))
    if tok.eos_token_id is None:
        print("error: the tokenizer has no EOS token", file=sys.stderr)
        return 1
    words = sorted(
        t[1:] for t in tok.get_vocab()
        if t.startswith("Ġ") and t[1:].isalpha() and len(tok(" " + t[1:], add_special_tokens=False).input_ids) == 1
    )
    if len(words) < 10:
        print(f"error: only {len(words)} single-token words in the vocabulary", file=sys.stderr)
        return 1
    overhead = len(example_ids(tok, {"instruction": "", "input": "", "output": ""})[0])  # template + EOS
    room = args.seq_len - overhead
    if room < 2:
        print(f"error: --seq-len {args.seq_len} leaves no room: template and EOS alone take {overhead} tokens",
              file=sys.stderr)
        return 1
    n_in = max(1, min(args.input_tokens, room // 4))
    n_out = room - n_in
    rng = random.Random(args.seed)
    recs = []
    for i in range(args.records):
        rec = {"instruction": "",
               "input": "".join(" " + rng.choice(words) for _ in range(n_in)),
               "output": "".join(" " + rng.choice(words) for _ in range(n_out))}
        ids, n_prompt = example_ids(tok, rec)
        if len(ids) != args.seq_len:
            print(f"error: record {i} tokenizes to {len(ids)} tokens, not {args.seq_len}", file=sys.stderr)
            return 1
        recs.append(rec)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text("".join(json.dumps(r) + "\n" for r in recs))
    tmp.rename(out)
    print(f"made bench train data: {args.records} records x {args.seq_len} tokens "
          f"(prompt {n_prompt}, of which input {n_in}; response {n_out} + EOS)", file=sys.stderr)
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
