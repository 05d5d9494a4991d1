#!/usr/bin/env python3
"""Per-token NLL of a text under base model + LoRA adapter, computed by Python PEFT.

Usage (from the repository root; a developer tool, never run by CI):

    python3 scripts/peft_check.py ADAPTER_DIR [--base tests/fixtures/tiny-qwen2] [--text TEXT]
    python3 scripts/peft_check.py out/adapter --ids 369,79,330,223,23

Loads the base model (float32, eager attention, eval mode) from --base, puts the adapter on it
with peft.PeftModel.from_pretrained(base, ADAPTER_DIR) (unmerged, exactly what PEFT users get),
tokenizes TEXT with the tokenizer in --base (add_special_tokens=False, i.e. the raw ids; no
BOS is added) unless --ids is given, and prints one JSON object on stdout:

  adapter, base, text, input_ids, tokens     what was scored
  nll        [len-1] -log p(ids[t] | ids[<t]) for t = 1..len-1 (the first token has no
             prediction and is omitted), log_softmax in float64 of the float32 logits
  nll_sum, nll_mean
  base_nll   the same with the adapter disabled (PeftModel.disable_adapter())
  max_abs_nll_diff_vs_base   0 for a freshly initialised adapter (lora_B = 0)
  adapter_config             r, lora_alpha, target_modules, ... as PEFT read them
  versions   torch / transformers / peft

Use: train an adapter with the Rust trainer, save it, run this on it and compare `nll` with
the NLL Rust computes for the same ids (tolerance ~1e-4 absolute). The default text is
make_fixtures.py's MAIN_TEXT, so for tests/fixtures/tiny-qwen2-lora `nll` equals
`qwen2/lora.nll` in tests/fixtures/expected.safetensors, and for tests/fixtures/train/lora-init
it equals the base model's NLL.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from pathlib import Path

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
warnings.filterwarnings("ignore", message="`is_gradient_checkpointing` is deprecated")

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TEXT = "Zoë has 12 apples and buys 7 more."


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("adapter", type=Path, help="PEFT adapter dir (adapter_config.json, adapter_model.safetensors)")
    ap.add_argument("--base", type=Path, default=ROOT / "tests" / "fixtures" / "tiny-qwen2",
                    help="HF model dir with config.json, weights and tokenizer files")
    ap.add_argument("--text", default=DEFAULT_TEXT)
    ap.add_argument("--ids", help="comma-separated token ids to score instead of --text")
    args = ap.parse_args()

    import peft
    import torch
    import transformers
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    transformers.logging.set_verbosity_error()
    for f in ("adapter_config.json",):
        if not (args.adapter / f).is_file():
            ap.error(f"{args.adapter / f} not found")

    tok = AutoTokenizer.from_pretrained(str(args.base))
    if args.ids:
        ids = [int(x) for x in args.ids.split(",") if x.strip()]
        text = tok.decode(ids)
    else:
        text = args.text
        ids = tok(text, add_special_tokens=False)["input_ids"]
    if len(ids) < 2:
        ap.error("need at least 2 tokens")

    base = AutoModelForCausalLM.from_pretrained(str(args.base), dtype=torch.float32, attn_implementation="eager")
    model = PeftModel.from_pretrained(base, str(args.adapter)).eval()
    x = torch.tensor([ids], dtype=torch.long)

    def nll() -> list[float]:
        with torch.no_grad():
            logits = model(input_ids=x, use_cache=False).logits[0].float()
        lp = torch.log_softmax(logits.double(), dim=-1)
        tgt = torch.tensor(ids[1:], dtype=torch.long)
        return (-lp[:-1].gather(1, tgt[:, None])[:, 0]).tolist()

    with_adapter = nll()
    with model.disable_adapter():
        without = nll()
    cfg = model.peft_config["default"]
    out = {
        "adapter": str(args.adapter),
        "base": str(args.base),
        "text": text,
        "input_ids": ids,
        "tokens": tok.convert_ids_to_tokens(ids),
        "nll": with_adapter,
        "nll_sum": sum(with_adapter),
        "nll_mean": sum(with_adapter) / len(with_adapter),
        "base_nll": without,
        "max_abs_nll_diff_vs_base": max(abs(a - b) for a, b in zip(with_adapter, without)),
        "adapter_config": {
            "peft_type": str(cfg.peft_type.value if hasattr(cfg.peft_type, "value") else cfg.peft_type),
            "r": cfg.r, "lora_alpha": cfg.lora_alpha, "lora_dropout": cfg.lora_dropout,
            "target_modules": sorted(cfg.target_modules) if cfg.target_modules is not None else None,
            "bias": cfg.bias, "use_rslora": cfg.use_rslora, "use_dora": cfg.use_dora,
            "fan_in_fan_out": cfg.fan_in_fan_out,
        },
        "versions": {"torch": torch.__version__.split("+")[0], "transformers": transformers.__version__,
                     "peft": peft.__version__},
    }
    print(json.dumps(out, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
