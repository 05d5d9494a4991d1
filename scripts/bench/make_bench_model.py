#!/usr/bin/env python3
"""Make (or reuse) the ~31M-parameter random Qwen2 model used by scripts/bench/generate.sh.

Usage:
    python3 scripts/bench/make_bench_model.py [--out DIR] [--force]

Default DIR: ${TOKENSKIP_CACHE:-$HOME/.cache/tokenskip-studio}/bench/qwen2-30m
Prints DIR as its last line. Idempotent: a directory whose bench_model.json stamp
matches this script's spec is reused as is. The weights live in the cache, never in
the repository.

Layout (HF): config.json (classic dialect), model.safetensors (float32, ~125 MB),
tokenizer.json + tokenizer_config.json (the fixture tokenizer from tests/fixtures;
its 480 ids sit inside a 8192-row embedding, as Qwen pads its vocabulary too),
bench_model.json (the spec stamp).
Shape: hidden 512, 8 layers, 8 heads, 2 kv heads (head_dim 64), intermediate 1408,
vocab 8192, untied lm_head, qkv bias: 30.9M parameters.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

ROOT = Path(__file__).resolve().parents[2]
SPEC = {
    "name": "qwen2-30m",
    "stamp_version": 1,
    "seed": 1234,
    "vocab_size": 8192,
    "hidden_size": 512,
    "intermediate_size": 1408,
    "num_hidden_layers": 8,
    "num_attention_heads": 8,
    "num_key_value_heads": 2,
    "max_position_embeddings": 2048,
    "rms_norm_eps": 1e-6,
    "rope_theta": 1000000.0,
    "tie_word_embeddings": False,
}


def default_dir() -> Path:
    cache = os.environ.get("TOKENSKIP_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "tokenskip-studio")
    return Path(cache) / "bench" / SPEC["name"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=default_dir())
    ap.add_argument("--force", action="store_true", help="rebuild even if the stamp matches")
    args = ap.parse_args()
    out: Path = args.out
    stamp = out / "bench_model.json"
    if not args.force and stamp.is_file() and (out / "model.safetensors").is_file():
        try:
            if json.loads(stamp.read_text()).get("spec") == SPEC:
                print("reusing existing bench model", file=sys.stderr)
                print(out)
                return 0
        except json.JSONDecodeError:
            pass

    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    tok_dir = ROOT / "tests" / "fixtures" / "tokenizer"
    if not (tok_dir / "tokenizer.json").is_file():
        print(f"error: {tok_dir}/tokenizer.json missing (run scripts/make_fixtures.py)", file=sys.stderr)
        return 1

    torch.manual_seed(SPEC["seed"])
    cfg = Qwen2Config(
        vocab_size=SPEC["vocab_size"], hidden_size=SPEC["hidden_size"],
        intermediate_size=SPEC["intermediate_size"], num_hidden_layers=SPEC["num_hidden_layers"],
        num_attention_heads=SPEC["num_attention_heads"], num_key_value_heads=SPEC["num_key_value_heads"],
        max_position_embeddings=SPEC["max_position_embeddings"], rms_norm_eps=SPEC["rms_norm_eps"],
        rope_parameters={"rope_type": "default", "rope_theta": SPEC["rope_theta"]},
        tie_word_embeddings=SPEC["tie_word_embeddings"], use_sliding_window=False,
        bos_token_id=0, eos_token_id=2, pad_token_id=0,
    )
    model = Qwen2ForCausalLM(cfg).float().eval()
    n_params = sum(p.numel() for p in model.parameters())

    tmp = out.with_name(out.name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    model.save_pretrained(str(tmp))
    (tmp / "generation_config.json").unlink(missing_ok=True)
    # classic dialect, as most Qwen2.5 checkpoints in the wild
    c = json.loads((tmp / "config.json").read_text())
    rp = c.pop("rope_parameters")
    c["rope_theta"] = float(rp["rope_theta"])
    c["rope_scaling"] = None
    c["torch_dtype"] = c.pop("dtype")
    c.pop("layer_types", None)
    (tmp / "config.json").write_text(json.dumps(dict(sorted(c.items())), indent=2) + "\n")
    for f in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copyfile(tok_dir / f, tmp / f)
    (tmp / "bench_model.json").write_text(json.dumps({"spec": SPEC, "parameters": n_params}, indent=2) + "\n")
    if out.exists():
        shutil.rmtree(out)
    tmp.rename(out)
    print(f"made bench model: {n_params / 1e6:.1f}M parameters", file=sys.stderr)
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
