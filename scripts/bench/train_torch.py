#!/usr/bin/env python3
"""PyTorch + peft half of scripts/bench/train.sh: LoRA SFT training throughput on CPU.

Usage:
    python3 scripts/bench/train_torch.py --model DIR --data FILE [--seq-len 256]
        [--micro-batch 4] [--grad-accum 1] [--steps 10] [--warmup-steps 2]
        [--threads N] [--lora-r 8] [--lora-alpha 16] [--lr 1e-4]

Prints ONE JSON line: {"tokens_per_s":X,"steps":N,"step_s":[...],...}.

The same recipe as `tokenskip-studio train` with the flags train.sh passes:
  model    AutoModelForCausalLM, float32, transformers' default SDPA attention, model.train(),
           no gradient checkpointing, use_cache=False;
  LoRA     peft get_peft_model, r / alpha as given, dropout 0, bias "none", all seven linears
           (q,k,v,o,gate,up,down); the base weights are frozen;
  data     FILE's records (make_train_data.py) tokenized as the Rust trainer does: chat-templated
           prompt + output + EOS, cut at --seq-len; every example must be exactly --seq-len
           tokens (no padding, so tokens = input ids processed); examples taken in file order,
           cycling, --micro-batch per micro-batch;
  loss     response tokens only (prompt labels -100), transformers' own causal-LM loss with
           num_items_in_batch = labelled tokens of the whole optimizer step (the Rust loss:
           token-loss sum / labelled tokens; each micro-batch backpropagates its share);
  step     clip_grad_norm_(1.0) (the Rust default --max-grad-norm), then
           torch.optim.AdamW(lr, betas (0.9, 0.999), eps 1e-8, weight_decay 0, foreach=False),
           constant lr (no warmup, no decay: one step's cost does not depend on the lr), then
           zero_grad(set_to_none=True).
Timing: --warmup-steps untimed optimizer steps, then --steps steps, each timed with
time.perf_counter from the first forward to the end of zero_grad (CPU ops are synchronous;
loss.item() is read inside the step). tokens_per_s = steps * micro_batch * grad_accum *
seq_len / (sum of the timed steps). torch.set_num_threads(N) with OMP/MKL_NUM_THREADS=N.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--seq-len", type=int, default=256)
    ap.add_argument("--micro-batch", type=int, default=4)
    ap.add_argument("--grad-accum", type=int, default=1)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup-steps", type=int, default=2)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--lora-r", type=int, default=8)
    ap.add_argument("--lora-alpha", type=float, default=16.0)
    ap.add_argument("--lr", type=float, default=1e-4)
    args = ap.parse_args()

    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    warnings.filterwarnings("ignore")

    import peft
    import torch
    import transformers
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from make_train_data import example_ids

    transformers.utils.logging.disable_progress_bar()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    tok = AutoTokenizer.from_pretrained(args.model)
    examples = []
    for i, line in enumerate(args.data.read_text().splitlines()):
        if not line.strip():
            continue
        ids, n_prompt = example_ids(tok, json.loads(line))
        ids = ids[: args.seq_len]
        if len(ids) != args.seq_len or n_prompt >= args.seq_len:
            print(f"error: {args.data}:{i + 1} is {len(ids)} tokens (prompt {n_prompt}), "
                  f"not {args.seq_len}: make the data with make_train_data.py --seq-len {args.seq_len}",
                  file=sys.stderr)
            return 1
        labels = [-100] * n_prompt + ids[n_prompt:]
        examples.append((ids, labels))

    model = AutoModelForCausalLM.from_pretrained(args.model, dtype=torch.float32, attn_implementation="sdpa")
    model.config.use_cache = False
    cfg = LoraConfig(r=args.lora_r, lora_alpha=args.lora_alpha, lora_dropout=0.0, bias="none",
                     target_modules=TARGETS, task_type="CAUSAL_LM")
    model = get_peft_model(model, cfg)
    model.train()
    trainable = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(trainable, lr=args.lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                            foreach=False)

    cursor = 0

    def next_micro():
        nonlocal cursor
        rows = [examples[(cursor + j) % len(examples)] for j in range(args.micro_batch)]
        cursor += args.micro_batch
        ids = torch.tensor([r[0] for r in rows], dtype=torch.long)
        labels = torch.tensor([r[1] for r in rows], dtype=torch.long)
        return ids, labels

    def step():
        window = [next_micro() for _ in range(args.grad_accum)]  # batching is not timed
        n_items = sum(int((lab[:, 1:] != -100).sum()) for _, lab in window)
        t0 = time.perf_counter()
        loss_sum = 0.0
        for ids, labels in window:
            out = model(input_ids=ids, attention_mask=torch.ones_like(ids), labels=labels,
                        num_items_in_batch=torch.tensor(n_items), use_cache=False)
            out.loss.backward()
            loss_sum += out.loss.item()
        torch.nn.utils.clip_grad_norm_(trainable, max_norm=1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        return time.perf_counter() - t0, loss_sum

    for _ in range(args.warmup_steps):
        step()
    times, losses = [], []
    for _ in range(args.steps):
        t, loss = step()
        times.append(t)
        losses.append(loss)
    tokens_per_step = args.micro_batch * args.grad_accum * args.seq_len
    res = {
        "tokens_per_s": round(args.steps * tokens_per_step / sum(times), 2),
        "steps": args.steps,
        "warmup_steps": args.warmup_steps,
        "tokens_per_step": tokens_per_step,
        "step_s": [round(t, 4) for t in times],
        "loss": [round(x, 4) for x in losses],
        "trainable_params": sum(p.numel() for p in trainable),
        "threads": args.threads,
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__, "peft": peft.__version__},
        "impl": "pytorch-eager+sdpa+peft",
    }
    print(json.dumps(res, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
