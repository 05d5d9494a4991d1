#!/usr/bin/env python3
"""Generate the PyTorch reference for the Rust trainer under tests/fixtures/train/.

Usage (from the repository root; a developer tool, never run by CI):

    pip install torch transformers peft safetensors
    python3 scripts/make_fixtures.py             # first: the tiny models and tokenizer
    python3 scripts/make_train_fixture.py        # writes tests/fixtures/train/
    python3 scripts/make_train_fixture.py --out DIR

Inputs (read only): tests/fixtures/{tokenizer,tiny-qwen2,tiny-llama}.
Deterministic: fixed seed, one CPU thread, torch.use_deterministic_algorithms, no wall-clock
data; rerunning with the same library versions rewrites byte-identical files (versions are
recorded under "generator").

What is written:

  lora-init/                 PEFT LoRA adapter for tiny-qwen2 initialised the PEFT way
                             (get_peft_model, init_lora_weights=True: lora_A kaiming-uniform
                             a=sqrt(5), i.e. U(-1/sqrt(in), 1/sqrt(in)); lora_B zeros), r 4,
                             lora_alpha 8 (scaling 2), dropout 0, the 7 linear layers, bias none,
                             saved with save_pretrained (README.md removed, target_modules sorted,
                             base_model_name_or_path "tiny-qwen2").
  batches.json               the LoRA run's data and hyper-parameters: 3 optimizer steps x 2
                             micro-batches x 2 sequences (8-20 tokens, right-padded).
  lora-expected.json         per step: lr, loss (before the update), micro-batch token-loss sums,
                             pre-clip grad norm, clip coefficient; loss on step 1's micro-batches
                             after the 3 updates.
  lora-expected.safetensors  final lora_A/lora_B under PEFT key names, pre-clip gradients of every
                             LoRA tensor at steps 1 and 3, AdamW state of layer 0 q_proj A and B,
                             and a per-step AdamW trace of those two tensors.
  batches-llama.json         the full fine-tuning run's data (steps 1-2 of batches.json) and
                             hyper-parameters (lr 1e-3, no warmup, 2 steps).
  full-expected.json         per step: lr, loss, sums, grad norm, clip coefficient; loss after.
  full-expected.safetensors  final values and step-1 pre-clip gradients of five tiny-llama tensors,
                             per-step AdamW trace of model.norm and layer 0's input_layernorm.

Training loop, exactly (both runs; float32, CPU, eager attention, model.train(), every dropout 0):

  opt   = torch.optim.AdamW(trainable, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01,
                            amsgrad=False, foreach=False)      # one param group, decay on all
  sched = transformers.get_cosine_schedule_with_warmup(opt, num_warmup_steps, num_training_steps)
  for each optimizer step k = 1..K:
      lr_k = opt.param_groups[0]["lr"]                          # = lr * lambda(k - 1)
      N    = number of labelled tokens (labels[:, 1:] != -100) in BOTH micro-batches
      for each micro-batch:
          logits = model(input_ids, attention_mask).logits      # position_ids default 0..L-1
          S      = cross_entropy(logits[:, :-1], labels[:, 1:], ignore_index=-100, reduction="sum")
          (S / N).backward()                                    # grads accumulate to dL/dtheta
      loss_k = (S_1 + S_2) / N                                  # recorded, before the update
      g_k    = clip_grad_norm_(trainable, max_norm=1.0)         # recorded: the PRE-clip norm
      opt.step(); sched.step(); opt.zero_grad()

The LoRA run starts from lora-init loaded with PeftModel.from_pretrained(is_trainable=True);
the full run from tiny-llama with all parameters trainable (the tied embedding/lm_head is ONE
parameter; its gradient is the sum of both uses).

Checks made on every run (recorded under "checks" in the *-expected.json files):
  - our loss == transformers' own causal-LM loss (labels=..., num_items_in_batch=N), per micro-batch;
  - the AdamW trace is reproduced bit-exactly by the op-by-op restatement in adamw_replay() and to
    <1e-6 by the textbook formula in float64;
  - the LoRA run through transformers.Trainer (adamw_torch, cosine, warmup_steps 1, same
    micro-batches in order) gives the same lrs, losses and grad norms and identical final tensors;
  - sensitivity: the same runs in float64 (noise floor) and with typical mistakes (no clipping,
    mean of micro-batch means, lr schedule off by one, no / coupled weight decay), so a reader can
    see which mistakes the 1e-4 tolerance catches.

Schemas: see tests/fixtures/README.md ("Trainer fixtures").
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
from pathlib import Path

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

import warnings  # noqa: E402

import torch  # noqa: E402

# Known, harmless: the lr_off_by_one check steps the scheduler first on purpose; PEFT looks for
# the base model's config under base_model_name_or_path; transformers' own deprecation notice.
warnings.filterwarnings("ignore", message="Detected call of `lr_scheduler.step")
warnings.filterwarnings("ignore", message="Could not find a config file in")
warnings.filterwarnings("ignore", message="`is_gradient_checkpointing` is deprecated")

ROOT = Path(__file__).resolve().parent.parent
SEED = 20250217  # arXiv 2502.12067, as make_fixtures.py
EOS = "<|im_end|>"
PAD_ID = 0  # <|endoftext|>
IGNORE = -100

# TokenSkip's raw training format: prompt = question<eos>[gamma<eos>], response = CoT<eos>
# (gamma omitted for 1.0). Kept short so every sequence is 8-20 tokens with this tokenizer.
EXAMPLES = [
    ("Tom has 5 apples." + EOS, "5 + 3 = 8" + EOS),
    ("Total?" + EOS, "2 * 3 = 6" + EOS),
    ("Tom has 12 cards." + EOS + "0.5" + EOS, "12 - 4" + EOS),
    ("How many eggs?" + EOS, "4 * 6 = 24" + EOS),
    ("Maya has 9 coins." + EOS + "0.7" + EOS, "9 + 2" + EOS),
    ("Sum?" + EOS, "7 + 6 = 13" + EOS),
    ("How many shells?" + EOS, "So 18 / 3 = 6." + EOS),
    ("Priya has 7 flowers." + EOS, "Then 7 * 2 = 14." + EOS),
    ("Sam has 10 candies." + EOS + "0.9" + EOS, "10 - 3" + EOS),
    ("Kenji has 15 marbles." + EOS, "$\\boxed{15}$" + EOS),
    ("Zoë buys 8 cookies." + EOS + "0.5" + EOS, "8 + 8" + EOS),
    ("How many pencils?" + EOS, "6 + 5 = 11 pencils." + EOS),
]
MICRO_BATCH = 2
GRAD_ACCUM = 2

OPTIM = {"betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 0.01, "amsgrad": False, "max_grad_norm": 1.0}
LORA_RUN = {"lr": 5e-3, "num_optimizer_steps": 3, "num_warmup_steps": 1}
FULL_RUN = {"lr": 1e-3, "num_optimizer_steps": 2, "num_warmup_steps": 0}
LORA = {"r": 4, "lora_alpha": 8, "lora_dropout": 0.0, "bias": "none", "task_type": "CAUSAL_LM",
        "target_modules": sorted(["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"])}
ADAM_STATE_OF = ["base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight",
                 "base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight"]
FULL_TENSORS = ["model.embed_tokens.weight", "model.layers.0.self_attn.q_proj.weight",
                "model.layers.1.mlp.down_proj.weight", "model.norm.weight",
                "model.layers.0.input_layernorm.weight"]
TOLERANCE = {
    "rel": 1e-4,
    "semantics": "scalars (loss, grad_norm, clip_coef, loss_after): |ours - ref| <= rel * |ref|; tensors: "
                 "max|ours - ref| <= rel * max|ref|, per tensor (element-wise relative error is meaningless "
                 "near 0). checks.differences.float64 shows the float32 noise floor of this run.",
    "trace_rel": 1e-6,
    "trace_semantics": "trace.* tensors replay one AdamW step from stored inputs (param_before, grad_clipped, "
                       "previous exp_avg/exp_avg_sq, lr, step): pure element-wise float32 math, so they "
                       "should agree to ~1e-6 of max|ref| and test weight decay, bias correction and eps, "
                       "which the end-to-end comparison cannot resolve at 1e-4",
}
ADAMW_MATH = [
    "t = step count of this tensor, starting at 1 on the first optimizer step (also when that step's lr is 0)",
    "param = param * (1 - lr * weight_decay)            # decoupled decay, BEFORE the moment updates",
    "exp_avg = exp_avg + (1 - beta1) * (grad - exp_avg)  # torch lerp_; = beta1*exp_avg + (1-beta1)*grad",
    "exp_avg_sq = exp_avg_sq * beta2 + (1 - beta2) * grad * grad",
    "bias_correction1 = 1 - beta1 ** t ; bias_correction2 = 1 - beta2 ** t   # Python floats (double)",
    "step_size = lr / bias_correction1",
    "denom = sqrt(exp_avg_sq) / sqrt(bias_correction2) + eps   # eps OUTSIDE the sqrt, after bias correction",
    "param = param - step_size * exp_avg / denom",
    "grad is the clipped gradient; exp_avg and exp_avg_sq start at 0; amsgrad off; one param group",
]
FULL_TRACE = ["model.norm.weight", "model.layers.0.input_layernorm.weight"]

LOSS_CONVENTION = {
    "shift": "logits at position t predict labels at position t+1 (HF causal-LM loss): "
             "cross_entropy(logits[:, :-1], labels[:, 1:]); labels[:, 0] is never used",
    "token_loss": "-log_softmax(logits)[label] in float32 over the full vocabulary; "
                  "no label smoothing, no z-loss",
    "ignore_index": IGNORE,
    "num_label_tokens": "N = count of labels[:, 1:] != -100 over BOTH micro-batches of the optimizer step",
    "normalization": "loss = (sum of token losses over both micro-batches) / N "
                     "(NOT the mean of per-micro-batch or per-sequence means)",
    "backward": "each micro-batch backpropagates (its token-loss sum) / N, so the accumulated "
                "gradient is d(loss)/d(theta)",
    "recorded_loss": "the step's loss before that step's update",
}


# --------------------------------------------------------------------------- helpers


def fmt_json(obj, indent: int = 0) -> str:
    """json.dumps(indent=2), but lists of scalars on one line (token ids stay readable)."""
    pad, pad1 = "  " * indent, "  " * (indent + 1)
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        items = [f"{pad1}{json.dumps(k, ensure_ascii=False)}: {fmt_json(v, indent + 1)}" for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(obj, (list, tuple)):
        if all(not isinstance(v, (dict, list, tuple)) for v in obj):
            return "[" + ", ".join(json.dumps(v, ensure_ascii=False) for v in obj) + "]"
        return "[\n" + ",\n".join(pad1 + fmt_json(v, indent + 1) for v in obj) + "\n" + pad + "]"
    if isinstance(obj, float):
        assert math.isfinite(obj), obj
    return json.dumps(obj, ensure_ascii=False)


def write_json(path: Path, obj) -> None:
    path.write_text(fmt_json(obj) + "\n", encoding="utf-8")


def clean_dir(d: Path) -> None:
    if d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True)


def encode(tok, prompt: str, response: str) -> tuple[list[int], list[int]]:
    """prompt and response encoded separately and concatenated (as LLaMA-Factory does)."""
    p = tok(prompt, add_special_tokens=False)["input_ids"]
    r = tok(response, add_special_tokens=False)["input_ids"]
    assert p and r
    return p + r, [IGNORE] * len(p) + r


def collate(tok, examples) -> dict:
    """Right-pad to the longest sequence of the micro-batch."""
    enc = [encode(tok, p, r) for p, r in examples]
    width = max(len(ids) for ids, _ in enc)
    mb = {"input_ids": [], "attention_mask": [], "labels": [], "lengths": [], "prompt_lengths": [],
          "examples": [{"prompt": p, "response": r} for p, r in examples]}
    for ids, lab in enc:
        n = len(ids)
        assert 8 <= n <= 20, (n, ids)
        mb["input_ids"].append(ids + [PAD_ID] * (width - n))
        mb["attention_mask"].append([1] * n + [0] * (width - n))
        mb["labels"].append(lab + [IGNORE] * (width - n))
        mb["lengths"].append(n)
        mb["prompt_lengths"].append(sum(1 for x in lab if x == IGNORE))
    assert len(set(mb["lengths"])) == len(examples), mb["lengths"]  # different lengths: padding used
    mb["num_label_tokens"] = sum(1 for row in mb["labels"] for x in row[1:] if x != IGNORE)
    return mb


def make_steps(tok, n_steps: int) -> list[list[dict]]:
    per = MICRO_BATCH * GRAD_ACCUM
    assert n_steps * per <= len(EXAMPLES)
    steps = []
    for k in range(n_steps):
        ex = EXAMPLES[k * per:(k + 1) * per]
        steps.append([collate(tok, ex[i * MICRO_BATCH:(i + 1) * MICRO_BATCH]) for i in range(GRAD_ACCUM)])
    return steps


def tensors_of(mb: dict) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    return (torch.tensor(mb["input_ids"], dtype=torch.long), torch.tensor(mb["attention_mask"], dtype=torch.long),
            torch.tensor(mb["labels"], dtype=torch.long))


def token_loss_sum(model, mb: dict) -> torch.Tensor:
    ids, mask, labels = tensors_of(mb)
    logits = model(input_ids=ids, attention_mask=mask, use_cache=False).logits  # float32 (float64 in checks)
    return torch.nn.functional.cross_entropy(
        logits[:, :-1].reshape(-1, logits.shape[-1]), labels[:, 1:].reshape(-1),
        ignore_index=IGNORE, reduction="sum")


def check_hf_loss(model, mb: dict, n: int) -> float:
    """Our convention == transformers' ForCausalLMLoss with num_items_in_batch."""
    ids, mask, labels = tensors_of(mb)
    with torch.no_grad():
        ours = token_loss_sum(model, mb) / n
        hf = model(input_ids=ids, attention_mask=mask, labels=labels, use_cache=False,
                   num_items_in_batch=torch.tensor(n)).loss
    d = abs(float(ours) - float(hf))
    assert d <= 1e-6 * max(1.0, abs(float(hf))), (float(ours), float(hf))
    return d


def lr_lambda(s: int, warmup: int, total: int) -> float:
    """transformers' cosine-with-warmup multiplier, restated (asserted against the scheduler)."""
    if s < warmup:
        return float(s) / float(max(1, warmup))
    progress = float(s - warmup) / float(max(1, total - warmup))
    return max(0.0, 0.5 * (1.0 + math.cos(math.pi * 0.5 * 2.0 * progress)))


VARIANTS = {
    "reference": "as specified",
    "float64": "the same run in float64 (numerical-noise floor for the tolerance)",
    "no_clip": "gradient clipping left out",
    "mean_of_micro_batch_means": "each micro-batch normalised by its own label count, then averaged",
    "lr_off_by_one": "lr at step k taken from lambda(k) instead of lambda(k - 1)",
    "no_weight_decay": "weight_decay 0",
    "coupled_weight_decay": "torch.optim.Adam with L2 weight_decay 0.01 (decay added to the gradient)",
}


def train(model, named_trainable: list[tuple[str, torch.nn.Parameter]], steps, run: dict, *,
          grads_at: tuple[int, ...] = (), grad_names=None, trace_names=(), variant: str = "reference"):
    from transformers import get_cosine_schedule_with_warmup

    assert variant in VARIANTS, variant
    params = [p for _, p in named_trainable]
    wd = 0.0 if variant == "no_weight_decay" else OPTIM["weight_decay"]
    opt_cls = torch.optim.Adam if variant == "coupled_weight_decay" else torch.optim.AdamW
    opt = opt_cls(params, lr=run["lr"], betas=tuple(OPTIM["betas"]), eps=OPTIM["eps"],
                  weight_decay=wd, amsgrad=OPTIM["amsgrad"], foreach=False)
    sched = get_cosine_schedule_with_warmup(opt, num_warmup_steps=run["num_warmup_steps"],
                                            num_training_steps=run["num_optimizer_steps"])
    if variant == "lr_off_by_one":
        sched.step()
    records, grads = [], {}
    model.train()
    for k, mbs in enumerate(steps, start=1):
        lr = opt.param_groups[0]["lr"]
        if variant != "lr_off_by_one":
            assert lr == run["lr"] * lr_lambda(k - 1, run["num_warmup_steps"], run["num_optimizer_steps"]), lr
        n = sum(mb["num_label_tokens"] for mb in mbs)
        opt.zero_grad(set_to_none=True)
        sums = []
        for mb in mbs:
            if variant == "reference":
                check_hf_loss(model, mb, n)
            s = token_loss_sum(model, mb)
            if variant == "mean_of_micro_batch_means":
                (s / mb["num_label_tokens"] / len(mbs)).backward()
            else:
                (s / n).backward()
            sums.append(s.detach())
        loss = (sums[0] + sums[1]) / n
        for name, p in named_trainable:
            assert p.grad is not None and torch.isfinite(p.grad).all(), name
        if k in grads_at:
            for name, p in named_trainable:
                if grad_names is None or name in grad_names:
                    grads[f"grad.step{k}.{name}"] = p.grad.detach().clone()
        if variant == "no_clip":
            norm = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(p.grad) for p in params]))
        else:
            norm = torch.nn.utils.clip_grad_norm_(params, max_norm=OPTIM["max_grad_norm"])
        coef = torch.clamp(OPTIM["max_grad_norm"] / (norm + 1e-6), max=1.0)
        named = dict(named_trainable)
        for name in trace_names:
            grads[f"trace.step{k}.{name}.param_before"] = named[name].detach().clone()
            grads[f"trace.step{k}.{name}.grad_clipped"] = named[name].grad.detach().clone()
        opt.step()
        for name in trace_names:
            st = opt.state[named[name]]
            grads[f"trace.step{k}.{name}.param_after"] = named[name].detach().clone()
            grads[f"trace.step{k}.{name}.exp_avg"] = st["exp_avg"].clone()
            grads[f"trace.step{k}.{name}.exp_avg_sq"] = st["exp_avg_sq"].clone()
        sched.step()
        records.append({
            "step": k, "lr": lr, "num_label_tokens": n,
            "micro_batch_num_label_tokens": [mb["num_label_tokens"] for mb in mbs],
            "micro_batch_token_loss_sums": [float(s) for s in sums],
            "loss": float(loss), "grad_norm": float(norm), "clip_coef": float(coef),
            "clipped": bool(float(norm) > OPTIM["max_grad_norm"]),
        })
    opt.zero_grad(set_to_none=True)
    with torch.no_grad():
        sums = [token_loss_sum(model, mb) for mb in steps[0]]
        n = sum(mb["num_label_tokens"] for mb in steps[0])
        after = float((sums[0] + sums[1]) / n)
    return records, after, grads, opt


def checks_json(checks: dict) -> dict:
    return {
        "what": "how far each variant run lands from this reference (relative; tensors: per tensor "
                "max|a - b| / max|b|, worst tensor, over the final tensors and the stored AdamW state). "
                "'float64' is the numerical-noise floor; a mistake is only caught by a tolerance below "
                "its number.",
        "variants": {k: v for k, v in VARIANTS.items() if k != "reference"},
        "differences": checks,
    }


def adamw_replay(before, grad, m, v, t: int, lr: float):
    """One torch AdamW step (foreach=False), restated op by op (ADAMW_MATH)."""
    b1, b2 = OPTIM["betas"]
    p = before.clone().mul_(1 - lr * OPTIM["weight_decay"])
    m = m.clone().lerp_(grad, 1 - b1)
    v = v.clone().mul_(b2).addcmul_(grad, grad, value=1 - b2)
    bc1, bc2 = 1 - b1 ** t, 1 - b2 ** t
    denom = (v.sqrt() / bc2 ** 0.5).add_(OPTIM["eps"])
    return p.addcdiv_(m, denom, value=-(lr / bc1)), m, v


def trace_json(names, n_steps: int, err: float) -> dict:
    return {
        "names": list(names),
        "keys": "trace.step{k}.<name>.{param_before, grad_clipped, param_after, exp_avg, exp_avg_sq}, "
                f"k = 1..{n_steps}; exp_avg/exp_avg_sq are AdamW's state AFTER step k (zeros before step 1); "
                "grad_clipped = pre-clip gradient * clip_coef (what AdamW sees); lr and t from steps[k-1]",
        "adamw_math": ADAMW_MATH,
        "textbook_float64_vs_torch_max_rel": float(f"{err:.3g}"),
    }


def check_trace(t: dict, records: list[dict], names) -> float:
    """The trace is reproduced by the restated AdamW (exactly) and by the textbook formula in float64."""
    b1, b2 = OPTIM["betas"]
    worst = 0.0
    for name in names:
        m = v = torch.zeros_like(t[f"trace.step1.{name}.param_before"])
        for r in records:
            k, lr = r["step"], r["lr"]
            pre = f"trace.step{k}.{name}."
            if f"grad.step{k}.{name}" in t:  # stored pre-clip gradient: clipped = pre-clip * clip_coef
                assert torch.equal(t[pre + "grad_clipped"], t[f"grad.step{k}.{name}"] * torch.tensor(r["clip_coef"]))
            p, m2, v2 = adamw_replay(t[pre + "param_before"], t[pre + "grad_clipped"], m, v, k, lr)
            assert torch.equal(p, t[pre + "param_after"]) and torch.equal(m2, t[pre + "exp_avg"]), pre
            assert torch.equal(v2, t[pre + "exp_avg_sq"]), pre
            # textbook AdamW in float64
            g, p0 = t[pre + "grad_clipped"].double(), t[pre + "param_before"].double()
            md, vd = b1 * m.double() + (1 - b1) * g, b2 * v.double() + (1 - b2) * g * g
            pd = p0 * (1 - lr * OPTIM["weight_decay"]) - lr * (md / (1 - b1 ** k)) / (
                (vd / (1 - b2 ** k)).sqrt() + OPTIM["eps"])
            scale = float(t[pre + "param_after"].double().abs().max())
            diff = float((pd - t[pre + "param_after"].double()).abs().max())
            worst = max(worst, diff / scale if scale > 0 else diff)
            m, v = t[pre + "exp_avg"], t[pre + "exp_avg_sq"]
            if k > 1:
                assert torch.equal(t[f"trace.step{k - 1}.{name}.param_after"], t[pre + "param_before"]), pre
    assert worst < 1e-6, worst
    return worst


def hf_trainer_check(tok, base_dir: Path, init_dir: Path, records: list[dict], final: dict) -> dict:
    """Run the same LoRA recipe through transformers' Trainer (what LLaMA-Factory drives) and
    compare: same micro-batches in order (SequentialSampler), optim adamw_torch, cosine, warmup 1."""
    import tempfile

    from peft import PeftModel
    from peft.utils import get_peft_model_state_dict
    from transformers import Qwen2ForCausalLM, Trainer, TrainingArguments
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    try:
        base = Qwen2ForCausalLM.from_pretrained(str(base_dir), dtype=torch.float32, attn_implementation="eager")
        model = PeftModel.from_pretrained(base, str(init_dir), is_trainable=True)

        def collator(feats):
            ids, mask, labels = tensors_of(collate(tok, [EXAMPLES[f["i"]] for f in feats]))
            return {"input_ids": ids, "attention_mask": mask, "labels": labels}

        class InOrder(Trainer):
            def _get_train_sampler(self, *a, **k):
                return torch.utils.data.SequentialSampler(self.train_dataset)

        with tempfile.TemporaryDirectory() as tmp:
            args = TrainingArguments(
                output_dir=tmp, per_device_train_batch_size=MICRO_BATCH, gradient_accumulation_steps=GRAD_ACCUM,
                max_steps=LORA_RUN["num_optimizer_steps"], learning_rate=LORA_RUN["lr"],
                warmup_steps=LORA_RUN["num_warmup_steps"], lr_scheduler_type="cosine",
                weight_decay=OPTIM["weight_decay"], adam_beta1=OPTIM["betas"][0], adam_beta2=OPTIM["betas"][1],
                adam_epsilon=OPTIM["eps"], max_grad_norm=OPTIM["max_grad_norm"], optim="adamw_torch",
                logging_steps=1, save_strategy="no", report_to=[], remove_unused_columns=False, use_cpu=True,
                disable_tqdm=True, seed=SEED)
            tr = InOrder(model=model, args=args, data_collator=collator,
                         train_dataset=[{"i": i} for i in range(len(records) * MICRO_BATCH * GRAD_ACCUM)])
            tr.remove_callback(PrinterCallback)
            tr.remove_callback(ProgressCallback)
            tr.train()
            logs = [h for h in tr.state.log_history if "loss" in h]
        sd = get_peft_model_state_dict(model)
        assert len(logs) == len(records), logs
        pairs = list(zip(logs, records))
        tensors = max(float((sd[k] - final[k]).abs().max() / final[k].abs().max()) for k in final)
        return {
            "what": "transformers.Trainer (optim adamw_torch, lr_scheduler_type cosine, warmup_steps 1, same "
                    "micro-batches in order) from lora-init vs this fixture",
            "loss_max_rel": float(f"{max(rel(h['loss'], r['loss']) for h, r in pairs):.3g}"),
            "grad_norm_max_rel": float(f"{max(rel(h['grad_norm'], r['grad_norm']) for h, r in pairs):.3g}"),
            "lr_equal": all(h["learning_rate"] == r["lr"] for h, r in pairs),
            "final_tensors_max_rel": float(f"{tensors:.3g}"),
        }
    except Exception as e:  # noqa: BLE001 (informative only)
        return {"error": f"{type(e).__name__}: {e}"[:300]}


def rel(a: float, b: float) -> float:
    return abs(a - b) / abs(b)


def compare(ref: tuple, other: tuple) -> dict:
    """Differences of a variant run from the reference: (records, after, {name: tensor})."""
    (r_rec, r_after, r_t), (o_rec, o_after, o_t) = ref, other
    out = {
        "loss_max_rel": max(rel(o["loss"], r["loss"]) for r, o in zip(r_rec, o_rec)),
        "grad_norm_max_rel": max(rel(o["grad_norm"], r["grad_norm"]) for r, o in zip(r_rec, o_rec)),
        "loss_after_rel": rel(o_after, r_after),
        # per tensor max|a - b| / max|b|, worst tensor
        "tensors_max_rel": max(float((o_t[k].double() - r_t[k].double()).abs().max() / r_t[k].double().abs().max())
                               for k in r_t),
    }
    return {k: float(f"{v:.3g}") for k, v in out.items()}


def batches_json(steps, model: str, mode: str, run: dict, extra: dict) -> dict:
    lrs = [run["lr"] * lr_lambda(k, run["num_warmup_steps"], run["num_optimizer_steps"])
           for k in range(run["num_optimizer_steps"])]
    return {
        "format": "tokenskip-train-batches",
        "version": 1,
        "model": model,
        "mode": mode,
        **extra,
        "tokenizer": "tokenizer",
        "encoding": {
            "input_ids": "tokenizer(prompt, add_special_tokens=False) + tokenizer(response, "
                         "add_special_tokens=False), encoded separately and concatenated",
            "labels": "-100 on the prompt part and on padding; the response ids (incl. its final "
                      "<|im_end|>) are labelled",
            "padding": "right, to the longest sequence of the micro-batch, input_ids pad = pad_token_id",
            "attention_mask": "1 on real tokens, 0 on padding",
            "position_ids": "not passed: transformers' default 0..L-1 (right padding, so real tokens are 0..n-1)",
            "pad_token_id": PAD_ID,
            "ignore_index": IGNORE,
        },
        "loss": LOSS_CONVENTION,
        "hyperparameters": {
            "lr": run["lr"],
            **OPTIM,
            "micro_batch_size": MICRO_BATCH,
            "gradient_accumulation_steps": GRAD_ACCUM,
            "num_optimizer_steps": run["num_optimizer_steps"],
            "optimizer": "torch.optim.AdamW(foreach=False, amsgrad=False), one param group over the "
                         "trainable parameters, weight decay on all of them (biases and norms too)",
            "grad_clip": "torch.nn.utils.clip_grad_norm_(trainable, max_norm) before every optimizer "
                         "step: total = ||(||g_i||_2)_i||_2, grads *= min(1, max_norm / (total + 1e-6))",
            "lr_scheduler": {
                "name": "cosine",
                "fn": "transformers.get_cosine_schedule_with_warmup",
                "num_warmup_steps": run["num_warmup_steps"],
                "num_training_steps": run["num_optimizer_steps"],
                "num_cycles": 0.5,
                "lr_at_step_k": "lr * lambda(k - 1) for 1-based optimizer step k; lambda(s) = s / max(1, W) "
                                "if s < W else max(0, 0.5 * (1 + cos(pi * (s - W) / max(1, T - W))))",
            },
            "lr_per_step": lrs,
        },
        "steps": [
            {"step": k, "lr": lrs[k - 1], "num_label_tokens": sum(mb["num_label_tokens"] for mb in mbs),
             "micro_batches": mbs}
            for k, mbs in enumerate(steps, start=1)
        ],
    }


# --------------------------------------------------------------------------- main


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=ROOT / "tests" / "fixtures" / "train")
    ap.add_argument("--fixtures", type=Path, default=ROOT / "tests" / "fixtures",
                    help="where tokenizer/, tiny-qwen2/ and tiny-llama/ are read from")
    args = ap.parse_args()

    import peft
    import safetensors
    import transformers
    from peft import LoraConfig, PeftModel, get_peft_model
    from peft.utils import get_peft_model_state_dict
    from safetensors.torch import load_file, save_file
    from transformers import AutoTokenizer, LlamaForCausalLM, Qwen2ForCausalLM

    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()

    fx: Path = args.fixtures
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    qdir, ldir = fx / "tiny-qwen2", fx / "tiny-llama"
    tok = AutoTokenizer.from_pretrained(str(fx / "tokenizer"))
    assert tok.pad_token_id == PAD_ID and tok.convert_tokens_to_ids(EOS) == 2
    generator = {
        "script": "scripts/make_train_fixture.py", "seed": SEED, "python": sys.version.split()[0],
        "torch": torch.__version__.split("+")[0], "transformers": transformers.__version__,
        "peft": peft.__version__, "safetensors": safetensors.__version__,
    }

    def load(cls, d: Path):
        m = cls.from_pretrained(str(d), dtype=torch.float32, attn_implementation="eager")
        assert m.config._attn_implementation == "eager" and m.config.attention_dropout == 0.0
        return m

    # ---- lora-init: PEFT's own initialisation
    init_dir = out / "lora-init"
    clean_dir(init_dir)
    torch.manual_seed(SEED + 10)
    pm = get_peft_model(load(Qwen2ForCausalLM, qdir), LoraConfig(**LORA))
    pm.save_pretrained(str(init_dir))
    (init_dir / "README.md").unlink(missing_ok=True)
    acfg = json.loads((init_dir / "adapter_config.json").read_text())
    acfg["base_model_name_or_path"] = "tiny-qwen2"
    acfg["target_modules"] = sorted(acfg["target_modules"])  # PEFT writes set order
    assert acfg["init_lora_weights"] is True and acfg["r"] == 4 and acfg["lora_alpha"] == 8
    (init_dir / "adapter_config.json").write_text(
        json.dumps(acfg, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    init_sd = load_file(str(init_dir / "adapter_model.safetensors"))
    assert len(init_sd) == 2 * 2 * len(LORA["target_modules"]), sorted(init_sd)
    for name, t in init_sd.items():
        if ".lora_B." in name:
            assert not t.any(), name
        else:  # kaiming_uniform_(a=sqrt(5)) on [r, in] -> U(-1/sqrt(in), 1/sqrt(in))
            bound = 1.0 / math.sqrt(t.shape[1])
            assert t.abs().max() <= bound and t.abs().max() > 0.5 * bound, name
    del pm

    # ---- LoRA run on tiny-qwen2
    steps = make_steps(tok, LORA_RUN["num_optimizer_steps"])

    def run_lora(variant: str):
        model = PeftModel.from_pretrained(load(Qwen2ForCausalLM, qdir), str(init_dir), is_trainable=True)
        if variant == "float64":
            model.double()
        lora_named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
        assert len(lora_named) == len(init_sd) and all(".lora_" in n for n, _ in lora_named), lora_named
        # PEFT in-memory name (".lora_A.default.weight") -> saved key (".lora_A.weight")
        key_of = {n: n.replace(".default.weight", ".weight") for n, _ in lora_named}
        assert set(key_of.values()) == set(init_sd), set(key_of.values()) ^ set(init_sd)
        for n, p in lora_named:
            assert torch.equal(p.detach().float(), init_sd[key_of[n]]), n
        named = [(key_of[n], p) for n, p in lora_named]
        records, after, grads, opt = train(model, named, steps, LORA_RUN, grads_at=(1, 3),
                                           trace_names=ADAM_STATE_OF, variant=variant)
        final = {k: v.detach().clone().contiguous() for k, v in get_peft_model_state_dict(model).items()}
        assert set(final) == set(init_sd), set(final) ^ set(init_sd)
        by_name = dict(named)
        for k in final:
            assert torch.equal(final[k], by_name[k].detach()), k
        t = {f"final.{k}": v for k, v in final.items()}
        t.update(grads)
        adam = {}
        for k in ADAM_STATE_OF:
            st = opt.state[by_name[k]]
            t[f"adam.{k}.exp_avg"] = st["exp_avg"].clone()
            t[f"adam.{k}.exp_avg_sq"] = st["exp_avg_sq"].clone()
            adam[k] = {"exp_avg": f"adam.{k}.exp_avg", "exp_avg_sq": f"adam.{k}.exp_avg_sq",
                       "step": int(st["step"])}
        return records, after, t, final, adam

    lora_records, lora_after, lt, final, adam = run_lora("reference")
    lora_trace_err = check_trace(lt, lora_records, ADAM_STATE_OF)
    for k in final:  # what the notes in lora-expected.json say
        if ".lora_A." in k:
            assert not lt[f"grad.step1.{k}"].any(), k
            assert lt[f"grad.step3.{k}"].any(), k
        else:
            assert lt[f"grad.step1.{k}"].any(), k
    lora_checks = {}
    for variant in VARIANTS:
        if variant != "reference":
            v_rec, v_after, v_t, _, _ = run_lora(variant)
            keep = [k for k in lt if k.startswith(("final.", "adam."))]
            lora_checks[variant] = compare((lora_records, lora_after, {k: lt[k] for k in keep}),
                                           (v_rec, v_after, {k: v_t[k] for k in keep}))
    trainer_check = hf_trainer_check(tok, qdir, init_dir, lora_records, final)
    save_file({k: v.contiguous() for k, v in sorted(lt.items())}, str(out / "lora-expected.safetensors"),
              metadata={"format": "pt"})
    scaling = LORA["lora_alpha"] / LORA["r"]
    write_json(out / "batches.json", batches_json(steps, "tiny-qwen2", "lora", LORA_RUN, {
        "adapter_init": "train/lora-init",
        "lora": {**{k: v for k, v in LORA.items()}, "scaling": scaling,
                 "trainable": "only lora_A / lora_B (PeftModel.from_pretrained(..., is_trainable=True))"},
    }))
    write_json(out / "lora-expected.json", {
        "format": "tokenskip-train-expected",
        "version": 1,
        "generator": generator,
        "batches": "train/batches.json",
        "model": "tiny-qwen2",
        "adapter_init": "train/lora-init",
        "tolerance": TOLERANCE,
        "steps": lora_records,
        "loss_after": {"micro_batches_of_step": 1, "loss": lora_after,
                       "what": "loss (same normalisation) on step 1's two micro-batches after all "
                               f"{LORA_RUN['num_optimizer_steps']} updates"},
        "tensors": {
            "final": {k: f"final.{k}" for k in sorted(final)},
            "final_shapes": {k: list(v.shape) for k, v in sorted(final.items())},
            "grads": "grad.step{1,3}.<PEFT key>: accumulated gradient d(loss)/d(theta) of every LoRA "
                     "tensor BEFORE clipping, at optimizer steps 1 and 3",
            "adam_state": adam,
            "trace": trace_json(ADAM_STATE_OF, LORA_RUN["num_optimizer_steps"], lora_trace_err),
        },
        "checks": {**checks_json(lora_checks), "hf_trainer": trainer_check},
        "notes": [
            "Keys are PEFT's saved names (adapter_model.safetensors): base_model.model.<HF module>.lora_A.weight "
            "[r, in] and .lora_B.weight [out, r]; forward y = W x (+ b) + scaling * B (A x), scaling = alpha / r = 2.",
            "lora-init has lora_B = 0, so at step 1 every lora_A gradient is exactly 0 (and lora_B's is not). "
            "Step 1's lr is 0 (warmup), so nothing moves at step 1 (weight decay multiplies by 1 - 0), "
            "but AdamW's state (step count, exp_avg, exp_avg_sq) is updated. Step 2 then moves lora_B only "
            "(lora_A gets only weight decay); step 3 is the first step with non-zero lora_A gradients.",
            "A check that 'every trainable tensor has a non-zero gradient after one backward' must therefore "
            "use an adapter with non-zero lora_B (e.g. tests/fixtures/tiny-qwen2-lora), not lora-init.",
        ],
    })

    # ---- full fine-tuning on tiny-llama (tied embeddings)
    lsteps = make_steps(tok, FULL_RUN["num_optimizer_steps"])
    assert lsteps == steps[:FULL_RUN["num_optimizer_steps"]]

    def run_full(variant: str):
        lm = load(LlamaForCausalLM, ldir)
        if variant == "float64":
            lm.double()
        assert lm.lm_head.weight is lm.model.embed_tokens.weight, "tied embeddings expected"
        full_named = list(lm.named_parameters())  # de-duplicated: lm_head.weight is not listed
        assert len(full_named) == len(list(lm.parameters())) and "lm_head.weight" not in dict(full_named)
        assert all(p.requires_grad for _, p in full_named)
        records, after, grads, _ = train(lm, full_named, lsteps, FULL_RUN, grads_at=(1,),
                                         grad_names=set(FULL_TENSORS), trace_names=FULL_TRACE, variant=variant)
        sd = dict(lm.named_parameters())
        assert lm.lm_head.weight is sd["model.embed_tokens.weight"]
        return records, after, grads, sd, full_named

    full_records, full_after, full_grads, sd, full_named = run_full("reference")
    full_trace_err = check_trace(full_grads, full_records, FULL_TRACE)
    full_checks = {}
    for variant in VARIANTS:
        if variant != "reference":
            v_rec, v_after, _, v_sd, _ = run_full(variant)
            full_checks[variant] = compare((full_records, full_after, {k: sd[k].detach() for k in FULL_TENSORS}),
                                           (v_rec, v_after, {k: v_sd[k].detach() for k in FULL_TENSORS}))
    ft = {f"final.{k}": sd[k].detach().clone() for k in FULL_TENSORS}
    ft.update(full_grads)
    save_file({k: v.contiguous() for k, v in sorted(ft.items())}, str(out / "full-expected.safetensors"),
              metadata={"format": "pt"})
    write_json(out / "batches-llama.json", batches_json(lsteps, "tiny-llama", "full", FULL_RUN, {
        "trainable": "all parameters (model.parameters(); the tied embed_tokens/lm_head weight is one "
                     "parameter, stored as model.embed_tokens.weight)",
        "same_as": f"steps 1-{FULL_RUN['num_optimizer_steps']} of batches.json (same tokenizer, same ids)",
    }))
    write_json(out / "full-expected.json", {
        "format": "tokenskip-train-expected",
        "version": 1,
        "generator": generator,
        "batches": "train/batches-llama.json",
        "model": "tiny-llama",
        "tolerance": TOLERANCE,
        "parameters": [{"name": n, "shape": list(p.shape)} for n, p in full_named],
        "num_parameters": sum(p.numel() for _, p in full_named),
        "steps": full_records,
        "loss_after": {"micro_batches_of_step": 1, "loss": full_after,
                       "what": "loss (same normalisation) on step 1's two micro-batches after all "
                               f"{FULL_RUN['num_optimizer_steps']} updates"},
        "tensors": {
            "final": {k: f"final.{k}" for k in FULL_TENSORS},
            "final_shapes": {k: list(sd[k].shape) for k in FULL_TENSORS},
            "grads": {k: f"grad.step1.{k}" for k in FULL_TENSORS},
            "grads_what": "accumulated gradient d(loss)/d(theta) at optimizer step 1, BEFORE clipping",
            "trace": trace_json(FULL_TRACE, FULL_RUN["num_optimizer_steps"], full_trace_err),
        },
        "checks": checks_json(full_checks),
        "notes": [
            "tie_word_embeddings: lm_head.weight IS model.embed_tokens.weight; its gradient is the sum of the "
            "embedding-lookup gradient and the output-projection gradient, counted once in the grad norm, "
            "decayed and updated once by AdamW.",
            "Weight decay applies to every parameter, RMSNorm weights included (plain torch AdamW over "
            "model.parameters(); HF Trainer would exclude norms and biases from decay).",
            "No warmup here: step 1 already uses the full lr, so step 1's update is AdamW's first-step update.",
        ],
    })

    # ---- summary
    for tag, recs, after in (("lora", lora_records, lora_after), ("full", full_records, full_after)):
        for r in recs:
            print(f"{tag} step {r['step']}: lr {r['lr']:.6g} N {r['num_label_tokens']} loss {r['loss']:.6f} "
                  f"grad_norm {r['grad_norm']:.6f} clip_coef {r['clip_coef']:.6f}")
        print(f"{tag} loss after on step-1 batches: {after:.6f}")
    print("lora vs transformers.Trainer:", json.dumps(trainer_check))
    for tag, checks in (("lora", lora_checks), ("full", full_checks)):
        for v, d in checks.items():
            print(f"{tag} {v:28s} {json.dumps(d)}")
    total = 0
    for p in sorted(out.rglob("*")):
        if p.is_file():
            total += p.stat().st_size
            print(f"{p.stat().st_size:>10,d}  {p.relative_to(out)}")
    print(f"{total:>10,d}  total ({total / 1024:.0f} KiB) in {out}")
    if total > 600 * 1024:
        print("WARNING: train fixtures exceed 600 KiB", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
