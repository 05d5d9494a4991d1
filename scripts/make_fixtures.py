#!/usr/bin/env python3
"""Generate the PyTorch parity fixtures under tests/fixtures/.

Usage (from the repository root; a developer tool, never run by CI):

    pip install torch transformers peft safetensors numpy gguf tokenizers
    python3 scripts/make_fixtures.py            # writes tests/fixtures/
    python3 scripts/make_fixtures.py --out DIR  # writes somewhere else

The Rust tests only read the committed output; the crate never needs Python.
Everything is deterministic (fixed seeds, one CPU thread, no wall-clock data):
rerunning with the same library versions rewrites byte-identical files.
The versions used are recorded in expected.json ("generator").

What is written (`--help` prints this text):

  tokenizer/            tiny byte-level BPE (SmolLM2/GPT-2 style: Digits(individual) +
                        ByteLevel pre-tokenizer, ByteLevel decoder), trained here on a
                        built-in corpus of arithmetic word problems; tokenizer.json and
                        tokenizer_config.json (Qwen2-style chat template, eos <|im_end|>,
                        pad <|endoftext|>, bos null).
  tiny-qwen2/           random Qwen2ForCausalLM, float32, SHARDED safetensors with
                        model.safetensors.index.json, config.json in the CLASSIC dialect
                        (rope_theta, rope_scaling, torch_dtype).
  tiny-qwen2-lora/      PEFT LoRA adapter for tiny-qwen2 (r 4, alpha 8, all linear layers,
                        lora_B non-zero so the adapter changes the logits).
  tiny-llama/           random LlamaForCausalLM, tied embeddings, LLaMA-3 rope scaling,
                        single model.safetensors, config.json in the TRANSFORMERS-5 dialect
                        (rope_parameters, dtype).
  tiny-llama.gguf       tiny-llama converted as llama.cpp's convert_hf_to_gguf.py does it
                        (F32 weights, Q/K row permutation, rope_freqs tensor, gpt2 tokenizer).
  tiny-llama-q8.gguf    the same with every 2-D weight in Q8_0.
  expected.json         ids, texts, greedy continuations, tensor names (schema below).
  expected.safetensors  float32 logits [seq, vocab] and per-token NLL [seq-1] per case.

expected.json schema (version 1):
  format, version, generator{...versions}, tolerance{logits_max_abs},
  tokenizer{dir, vocab_size, special_tokens{name: id}, eos_token, eos_token_id,
            pad_token, pad_token_id, bos_token},
  tokenize: [{text, ids}]                      # tokenizer parity examples
  chat_template: [{messages, add_generation_prompt, rendered, ids}]
  cases: {<case>: {model, adapter, gguf?, text, input_ids, logits, logits_shape,
                   nll, greedy_new_tokens, greedy, greedy_text, greedy_min_margin, notes}}
         cases: "qwen2/base", "qwen2/lora", "llama/base", "llama/q8_0"
         logits/nll hold tensor names in expected.safetensors ("<case>.logits", "<case>.nll").
         greedy = the 16 new token ids only (argmax, full forward each step, no EOS stop).
  batch: {case, model, max_new_tokens, prompts: [{text, input_ids, greedy}]}
  rope: {"llama": {inv_freq_default, freq_factors, inv_freq_scaled}}
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import math
import os
import random
import shutil
import sys
from pathlib import Path

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SEED = 20250217  # arXiv 2502.12067

SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
VOCAB_TARGET = 480

# Qwen2-Instruct's chat template (system/user/assistant, default system prompt,
# add_generation_prompt). Kept to the Jinja subset minijinja renders identically.
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}"
    "{% endif %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)

MAIN_TEXT = "Zoë has 12 apples and buys 7 more."
BATCH_TEXTS = [
    "Tom has 5",
    "How many marbles does he have now?",
    "Step 1: So we compute 48 + 35",
]
TOKENIZE_EXAMPLES = [
    MAIN_TEXT,
    "Step 1: 48 + 35 = 83.\n\nThe final answer is: $\\boxed{83}$",
    "What is 2+3?<|im_end|>0.5<|im_end|>",
    "  double  spaces,\ttabs and a new\nline; naïve café — déjà vu 123456",
    "<|im_start|>user\nWhat is 2+3?<|im_end|>\n<|im_start|>assistant\n",
]
CHAT_EXAMPLES = [
    [{"role": "user", "content": "What is 2+3?"}],
    [
        {"role": "system", "content": "Reason step by step."},
        {"role": "user", "content": "Tom has 3 apples. He buys 4 more. How many?"},
        {"role": "assistant", "content": "3 + 4 = 7. The final answer is: $\\boxed{7}$"},
        {"role": "user", "content": "And if he eats 2?"},
    ],
]
GREEDY_NEW = 16
BATCH_NEW = 8


# --------------------------------------------------------------------------- corpus


def build_corpus(n_problems: int = 1500) -> list[str]:
    """Arithmetic word problems with wordy step-by-step CoTs (deterministic)."""
    rng = random.Random(SEED)
    names = [("Tom", "He"), ("Anna", "She"), ("Liam", "He"), ("Maya", "She"), ("Zoë", "She"),
             ("Omar", "He"), ("Priya", "She"), ("Kenji", "He"), ("Lucía", "She"), ("Sam", "They")]
    items = ["apples", "pencils", "marbles", "cookies", "books", "stickers", "eggs", "coins",
             "cards", "flowers", "shells", "candies"]
    fillers = ["Let's think step by step.", "First, we need to find out how many there are.",
               "Okay, so let us carefully work through this problem.",
               "Well, we can solve this in a few simple steps.",
               "To answer the question, we first look at what we know."]
    links = ["So", "Then", "Next,", "After that,", "Therefore,", "This means that", "In total,"]
    out = []
    for _ in range(n_problems):
        (name, pron), (friend, _) = rng.sample(names, 2)
        item = rng.choice(items)
        a, b = rng.randint(2, 60), rng.randint(2, 40)
        c = rng.randint(1, a + b - 1)
        k = rng.randint(2, 6)
        kind = rng.randrange(3)
        if kind == 0:
            q = (f"{name} has {a} {item}. {pron} buys {b} more and gives {c} to {friend}. "
                 f"How many {item} does {name} have now?")
            s1, r1 = f"{a} + {b} = {a + b}", a + b
            s2, ans = f"{r1} - {c} = {r1 - c}", r1 - c
        elif kind == 1:
            r1 = k * a
            c = rng.randint(1, r1 - 1)
            q = (f"{name} has {k} bags with {a} {item} in each bag. {pron} gives {c} {item} "
                 f"to {friend}. How many {item} are left?")
            s1 = f"{k} * {a} = {r1}"
            s2, ans = f"{r1} - {c} = {r1 - c}", r1 - c
        else:
            tot = a * k
            q = (f"{name} shares {tot} {item} equally among {k} friends, then finds {b} more. "
                 f"How many {item} does each friend get, plus the extra ones?")
            s1, r1 = f"{tot} / {k} = {a}", a
            s2, ans = f"{a} + {b} = {a + b}", a + b
        cot = (f"{rng.choice(fillers)}\nStep 1: {rng.choice(links)} we compute {s1}.\n"
               f"Step 2: {rng.choice(links)} {s2} {item}.\n\n"
               f"The final answer is: $\\boxed{{{ans}}}$")
        out.append(q)
        out.append(cot)
        if rng.random() < 0.3:
            ratio = rng.choice(["0.9", "0.8", "0.7", "0.6", "0.5"])
            out.append(f"<|im_start|>user\n{q}<|im_end|>{ratio}<|im_end|>\n<|im_start|>assistant\n")
    return out


# --------------------------------------------------------------------------- tokenizer


def make_tokenizer(out_dir: Path):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    tok = Tokenizer(models.BPE())
    # SmolLM2's pipeline: single digits, then GPT-2 byte-level with its regex.
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=True),
    ])
    tok.post_processor = processors.ByteLevel(add_prefix_space=True, trim_offsets=False, use_regex=True)
    tok.decoder = decoders.ByteLevel(add_prefix_space=True, trim_offsets=True, use_regex=True)
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_TARGET,
        min_frequency=2,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(build_corpus(), trainer=trainer)
    out_dir.mkdir(parents=True, exist_ok=True)
    tok.save(str(out_dir / "tokenizer.json"), pretty=True)

    vocab = tok.get_vocab()
    added = {
        str(vocab[t]): {"content": t, "lstrip": False, "normalized": False, "rstrip": False,
                        "single_word": False, "special": True}
        for t in SPECIAL_TOKENS
    }
    cfg = {
        "add_prefix_space": False,
        "added_tokens_decoder": added,
        "bos_token": None,
        "chat_template": CHAT_TEMPLATE,
        "clean_up_tokenization_spaces": False,
        "eos_token": "<|im_end|>",
        "errors": "replace",
        "model_max_length": 128,
        "pad_token": "<|endoftext|>",
        "split_special_tokens": False,
        "tokenizer_class": "PreTrainedTokenizerFast",
        "unk_token": None,
    }
    write_json(out_dir / "tokenizer_config.json", cfg)
    return tok


def load_hf_tokenizer(tok_dir: Path):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(tok_dir))


# --------------------------------------------------------------------------- helpers


def write_json(path: Path, obj) -> None:
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False, sort_keys=False) + "\n", encoding="utf-8")


def gen(offset: int) -> torch.Generator:
    g = torch.Generator()
    g.manual_seed(SEED + offset)
    return g


@torch.no_grad()
def randomize(model, offset: int, *, lin_std: float, emb_std: float) -> None:
    """Re-initialise every parameter with non-trivial values so that bugs show:
    large enough projections for peaked attention and spread-out logits, RMSNorm
    weights away from 1, non-zero biases."""
    g = gen(offset)
    for name, p in sorted(model.named_parameters(), key=lambda kv: kv[0]):
        if name.endswith("norm.weight") or name.endswith("layernorm.weight"):
            p.copy_(torch.rand(p.shape, generator=g) + 0.5)  # U(0.5, 1.5)
        elif name.endswith(".bias"):
            p.copy_(torch.randn(p.shape, generator=g) * 0.1)
        elif "embed_tokens" in name or name.startswith("lm_head"):
            p.copy_(torch.randn(p.shape, generator=g) * emb_std)
        else:
            p.copy_(torch.randn(p.shape, generator=g) * lin_std)


@torch.no_grad()
def logits_of(model, ids: list[int]) -> torch.Tensor:
    out = model(input_ids=torch.tensor([ids], dtype=torch.long), use_cache=False)
    return out.logits[0].float().contiguous()


@torch.no_grad()
def greedy(model, ids: list[int], n: int) -> tuple[list[int], float]:
    """Manual argmax loop, full forward each step, no EOS stopping.
    Returns the new ids and the smallest top-1/top-2 logit gap seen."""
    seq = list(ids)
    margin = float("inf")
    for _ in range(n):
        last = logits_of(model, seq)[-1]
        top = torch.topk(last, 2)
        margin = min(margin, float(top.values[0] - top.values[1]))
        seq.append(int(top.indices[0]))
    return seq[len(ids):], margin


def nll_of(logits: torch.Tensor, ids: list[int]) -> torch.Tensor:
    lp = torch.log_softmax(logits.double(), dim=-1)
    tgt = torch.tensor(ids[1:], dtype=torch.long)
    return (-lp[:-1].gather(1, tgt[:, None])[:, 0]).float().contiguous()


# --------------------------------------------------------------------------- models


def qwen2_config(vocab: int, tok):
    from transformers import Qwen2Config

    return Qwen2Config(
        vocab_size=vocab, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, rms_norm_eps=1e-6,
        rope_parameters={"rope_type": "default", "rope_theta": 10000.0},
        max_position_embeddings=128, tie_word_embeddings=False,
        use_sliding_window=False, sliding_window=8, max_window_layers=1,
        bos_token_id=tok.convert_tokens_to_ids("<|endoftext|>"),
        eos_token_id=tok.convert_tokens_to_ids("<|im_end|>"),
        pad_token_id=tok.convert_tokens_to_ids("<|endoftext|>"),
    )


LLAMA_ROPE = {
    "rope_type": "llama3",
    "rope_theta": 500000.0,
    "factor": 8.0,
    "low_freq_factor": 1.0,
    "high_freq_factor": 4.0,
    # 64 (not 8192): at head_dim 16 this puts one frequency in each of the three
    # llama3 bands (unchanged, smoothed, divided by factor).
    "original_max_position_embeddings": 64,
}


def llama_config(vocab: int, tok):
    from transformers import LlamaConfig

    return LlamaConfig(
        vocab_size=vocab, hidden_size=64, intermediate_size=160, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=1, rms_norm_eps=1e-5,
        rope_parameters=dict(LLAMA_ROPE), max_position_embeddings=256, tie_word_embeddings=True,
        bos_token_id=tok.convert_tokens_to_ids("<|endoftext|>"),
        eos_token_id=tok.convert_tokens_to_ids("<|im_end|>"),
        pad_token_id=tok.convert_tokens_to_ids("<|endoftext|>"),
    )


def to_classic_dialect(cfg_path: Path) -> None:
    """Rewrite a transformers-5 config.json into the classic (4.x) key names."""
    cfg = json.loads(cfg_path.read_text())
    rp = cfg.pop("rope_parameters")
    assert rp.get("rope_type", "default") == "default", rp
    cfg["rope_theta"] = float(rp["rope_theta"])
    cfg["rope_scaling"] = None
    cfg["torch_dtype"] = cfg.pop("dtype")
    # As in real Qwen2.5 configs: a sliding_window that use_sliding_window=false
    # switches off. Set small here so that a runtime that applies it anyway fails.
    cfg["sliding_window"] = 8
    cfg.pop("layer_types", None)
    write_json(cfg_path, dict(sorted(cfg.items())))


def check_transformers5_dialect(cfg_path: Path) -> None:
    cfg = json.loads(cfg_path.read_text())
    assert "rope_parameters" in cfg and "rope_theta" in cfg["rope_parameters"], cfg
    assert "dtype" in cfg and "torch_dtype" not in cfg and "rope_scaling" not in cfg, cfg


def copy_tokenizer(tok_dir: Path, model_dir: Path) -> None:
    for f in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copyfile(tok_dir / f, model_dir / f)


def clean_dir(d: Path) -> None:
    if d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True)


def max_abs(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).abs().max())


# --------------------------------------------------------------------------- gguf


def llama_rope_factors(rp: dict, head_dim: int) -> list[float]:
    """llama.cpp's generate_extra_tensors for rope_type llama3 (rope_freqs.weight).
    Deviation: original_max_position_embeddings is read from rope_parameters (as
    transformers does); convert_hf_to_gguf.py reads a top-level key and falls back to
    8192, which only agrees for real LLaMA-3.1 configs."""
    base = rp["rope_theta"]
    freqs = 1.0 / (base ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim))
    factor, lo, hi = rp["factor"], rp["low_freq_factor"], rp["high_freq_factor"]
    old = rp["original_max_position_embeddings"]
    lo_wav, hi_wav = old / lo, old / hi
    out = []
    for f in freqs:
        wav = 2 * math.pi / float(f)
        if wav < hi_wav:
            out.append(1.0)
        elif wav > lo_wav:
            out.append(factor)
        else:
            smooth = (old / wav - lo) / (hi - lo)
            out.append(1 / ((1 - smooth) / factor + smooth))
    return out


def permute_qk(w: np.ndarray, n_head: int) -> np.ndarray:
    """llama.cpp LlamaModel.permute: HF half-split rope rows -> interleaved rope rows."""
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def unpermute_qk(w: np.ndarray, n_head: int) -> np.ndarray:
    return w.reshape(n_head, w.shape[0] // n_head // 2, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


HF_TO_GGUF = {
    "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
    "self_attn.o_proj": "attn_output", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
    "mlp.down_proj": "ffn_down", "input_layernorm": "attn_norm",
    "post_attention_layernorm": "ffn_norm",
}


def gguf_name(hf: str) -> str:
    if hf == "model.embed_tokens.weight":
        return "token_embd.weight"
    if hf == "model.norm.weight":
        return "output_norm.weight"
    if hf == "lm_head.weight":
        return "output.weight"
    parts = hf.split(".")  # model.layers.N.<mod>.<sub>.weight
    assert parts[0] == "model" and parts[1] == "layers", hf
    mod = ".".join(parts[3:-1])
    return f"blk.{parts[2]}.{HF_TO_GGUF[mod]}.{parts[-1]}"


def write_llama_gguf(path: Path, model_dir: Path, state: dict, cfg: dict, tok, q8: bool) -> None:
    import gguf

    n_head, n_kv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    head_dim = cfg.get("head_dim") or cfg["hidden_size"] // n_head
    qt = gguf.GGMLQuantizationType
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_type("model")
    w.add_name("tiny-llama")
    w.add_block_count(cfg["num_hidden_layers"])
    w.add_context_length(cfg["max_position_embeddings"])
    w.add_embedding_length(cfg["hidden_size"])
    w.add_feed_forward_length(cfg["intermediate_size"])
    w.add_head_count(n_head)
    w.add_head_count_kv(n_kv)
    w.add_rope_freq_base(float(cfg["rope_parameters"]["rope_theta"]))
    w.add_layer_norm_rms_eps(float(cfg["rms_norm_eps"]))
    if cfg.get("head_dim") is not None:
        w.add_key_length(head_dim)
        w.add_value_length(head_dim)
    w.add_file_type(gguf.LlamaFileType.MOSTLY_Q8_0 if q8 else gguf.LlamaFileType.ALL_F32)
    w.add_vocab_size(cfg["vocab_size"])
    w.add_rope_dimension_count(head_dim)

    # Tokenizer, as _set_vocab_gpt2 + SpecialVocab(load_merges=True) do it.
    vocab = tok.get_vocab()
    rev = {i: t for t, i in vocab.items()}
    added = tok.added_tokens_decoder
    tokens, types = [], []
    for i in range(cfg["vocab_size"]):
        if i not in rev:
            tokens.append(f"[PAD{i}]")
            types.append(gguf.TokenType.UNUSED)
        elif i in added:
            tokens.append(added[i].content)
            types.append(gguf.TokenType.CONTROL if added[i].special else gguf.TokenType.USER_DEFINED)
        else:
            tokens.append(rev[i])
            types.append(gguf.TokenType.NORMAL)
    w.add_add_space_prefix(False)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("smollm")  # Digits(individual) + GPT-2 byte-level regex, like SmolLM2
    w.add_token_list(tokens)
    w.add_token_types(types)
    special = gguf.SpecialVocab(str(model_dir), load_merges=True)
    special.add_to_gguf(w, quiet=True)
    w.add_add_bos_token(False)
    if q8:
        w.add_quantization_version(gguf.GGML_QUANT_VERSION)

    factors = llama_rope_factors(cfg["rope_parameters"], head_dim)
    w.add_tensor("rope_freqs.weight", np.asarray(factors, dtype=np.float32))
    for name in sorted(state):
        arr = state[name].detach().cpu().float().numpy().copy()
        if name.endswith("q_proj.weight"):
            arr = permute_qk(arr, n_head)
        elif name.endswith("k_proj.weight"):
            arr = permute_qk(arr, n_kv)
        gname = gguf_name(name)
        if q8 and arr.ndim == 2:
            qa = gguf.quants.quantize(arr, qt.Q8_0)
            w.add_tensor(gname, qa, raw_dtype=qt.Q8_0)
        else:
            w.add_tensor(gname, arr.astype(np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def read_gguf_as_hf(path: Path, cfg: dict) -> dict[str, torch.Tensor]:
    """Independent reader: dequantize, undo the Q/K permutation, map names back to HF."""
    import gguf

    n_head, n_kv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    inv = {v: k for k, v in HF_TO_GGUF.items()}
    r = gguf.GGUFReader(str(path))
    out = {}
    for t in r.tensors:
        arr = gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float32)
        arr = arr.reshape([int(x) for x in reversed(t.shape.tolist())])
        if t.name == "rope_freqs.weight":
            out["__rope_freqs__"] = torch.from_numpy(arr.copy())
            continue
        if t.name == "token_embd.weight":
            hf = "model.embed_tokens.weight"
        elif t.name == "output_norm.weight":
            hf = "model.norm.weight"
        else:
            _, n, mod, wt = t.name.split(".")
            hf = f"model.layers.{n}.{inv[mod]}.{wt}"
            if mod == "attn_q":
                arr = unpermute_qk(arr, n_head)
            elif mod == "attn_k":
                arr = unpermute_qk(arr, n_kv)
        out[hf] = torch.from_numpy(np.ascontiguousarray(arr))
    return out


# --------------------------------------------------------------------------- main


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=ROOT / "tests" / "fixtures")
    args = ap.parse_args()

    import gguf
    import peft
    import safetensors
    import tokenizers
    import transformers
    from peft import LoraConfig, PeftModel, get_peft_model
    from safetensors.torch import load_file, save_file
    from transformers import LlamaForCausalLM, Qwen2ForCausalLM

    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    torch.manual_seed(SEED)
    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()

    fx: Path = args.out
    fx.mkdir(parents=True, exist_ok=True)
    tensors: dict[str, torch.Tensor] = {}
    notes: list[str] = []

    # ---- tokenizer
    tok_dir = fx / "tokenizer"
    clean_dir(tok_dir)
    make_tokenizer(tok_dir)
    tok = load_hf_tokenizer(tok_dir)
    from tokenizers import Tokenizer

    raw = Tokenizer.from_file(str(tok_dir / "tokenizer.json"))
    vocab = len(tok)
    assert vocab == raw.get_vocab_size(), (vocab, raw.get_vocab_size())
    tokenize = []
    for text in TOKENIZE_EXAMPLES:
        ids = tok(text, add_special_tokens=False)["input_ids"]
        assert ids == raw.encode(text, add_special_tokens=False).ids, text
        assert tok.decode(ids) == text, (text, tok.decode(ids))
        tokenize.append({"text": text, "ids": ids})
    chat = []
    for msgs in CHAT_EXAMPLES:
        rendered = tok.apply_chat_template(msgs, add_generation_prompt=True, tokenize=False)
        chat.append({"messages": msgs, "add_generation_prompt": True, "rendered": rendered,
                     "ids": tok(rendered, add_special_tokens=False)["input_ids"]})
    main_ids = tok(MAIN_TEXT, add_special_tokens=False)["input_ids"]
    batch_ids = [tok(t, add_special_tokens=False)["input_ids"] for t in BATCH_TEXTS]
    assert len({len(b) for b in batch_ids}) == len(batch_ids), [len(b) for b in batch_ids]

    cases: dict[str, dict] = {}

    def record(case: str, model, model_name: str, adapter=None, extra=None) -> torch.Tensor:
        lg = logits_of(model, main_ids)
        g, margin = greedy(model, main_ids, GREEDY_NEW)
        tensors[f"{case}.logits"] = lg
        tensors[f"{case}.nll"] = nll_of(lg, main_ids)
        cases[case] = {
            "model": model_name, "adapter": adapter, "text": MAIN_TEXT, "input_ids": main_ids,
            "logits": f"{case}.logits", "logits_shape": list(lg.shape),
            "nll": f"{case}.nll", "nll_shape": [len(main_ids) - 1],
            "greedy_new_tokens": GREEDY_NEW, "greedy": g,
            "greedy_text": tok.decode(g), "greedy_min_margin": round(margin, 6),
            **(extra or {}),
        }
        return lg

    # ---- tiny-qwen2 (classic dialect, sharded)
    qdir = fx / "tiny-qwen2"
    clean_dir(qdir)
    torch.manual_seed(SEED + 1)
    qm = Qwen2ForCausalLM(qwen2_config(vocab, tok)).float().eval()
    randomize(qm, 1, lin_std=0.15, emb_std=0.4)
    qm.save_pretrained(str(qdir), max_shard_size="200KB")
    (qdir / "generation_config.json").unlink(missing_ok=True)
    to_classic_dialect(qdir / "config.json")
    copy_tokenizer(tok_dir, qdir)
    shards = sorted(p.name for p in qdir.glob("*.safetensors"))
    assert (qdir / "model.safetensors.index.json").exists() and len(shards) >= 2, shards
    q = Qwen2ForCausalLM.from_pretrained(str(qdir), dtype=torch.float32).eval()
    assert q.config.rope_parameters["rope_theta"] == 10000.0 and q.config.sliding_window is None
    for k, v in qm.state_dict().items():
        assert torch.equal(v, q.state_dict()[k]), k
    q_lg = record("qwen2/base", q, "tiny-qwen2", extra={
        "notes": "config.json is the classic dialect; sliding_window 8 with "
                 "use_sliding_window false must be ignored (as transformers does)."})

    # sensitivity: these would hide bugs if tiny
    with torch.no_grad():
        pos0 = q(input_ids=torch.tensor([main_ids]), position_ids=torch.zeros(1, len(main_ids), dtype=torch.long),
                 use_cache=False).logits[0]
    sens = {"qwen2_rope_off": max_abs(pos0, q_lg)}
    # what a runtime that wrongly applies sliding_window=8 (use_sliding_window=false) would get
    swa_cfg = qwen2_config(vocab, tok)
    swa_cfg.use_sliding_window, swa_cfg.sliding_window = True, 8
    swa_cfg.layer_types = ["sliding_attention"] * swa_cfg.num_hidden_layers
    swa = Qwen2ForCausalLM(swa_cfg).float().eval()
    swa.load_state_dict(q.state_dict())
    sens["qwen2_if_sliding_window_applied"] = max_abs(logits_of(swa, main_ids), q_lg)

    # ---- tiny-qwen2-lora
    ldir = fx / "tiny-qwen2-lora"
    clean_dir(ldir)
    base = Qwen2ForCausalLM.from_pretrained(str(qdir), dtype=torch.float32).eval()
    lcfg = LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0, bias="none", task_type="CAUSAL_LM",
                      target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"])
    pm = get_peft_model(base, lcfg)
    g = gen(3)
    with torch.no_grad():
        for name, p in sorted(pm.named_parameters(), key=lambda kv: kv[0]):
            if "lora_A" in name:
                p.copy_(torch.randn(p.shape, generator=g) * 0.1)
            elif "lora_B" in name:
                p.copy_(torch.randn(p.shape, generator=g) * 0.05)
    pm.save_pretrained(str(ldir))
    (ldir / "README.md").unlink(missing_ok=True)
    acfg = json.loads((ldir / "adapter_config.json").read_text())
    acfg["base_model_name_or_path"] = "tiny-qwen2"
    acfg["target_modules"] = sorted(acfg["target_modules"])  # PEFT writes set order
    write_json(ldir / "adapter_config.json", acfg)
    base2 = Qwen2ForCausalLM.from_pretrained(str(qdir), dtype=torch.float32).eval()
    lm = PeftModel.from_pretrained(base2, str(ldir)).eval()
    l_lg = record("qwen2/lora", lm, "tiny-qwen2", adapter="tiny-qwen2-lora",
                  extra={"merged": False, "notes": "PEFT model with the adapter, unmerged; "
                         "merging must agree within tolerance too."})
    merged = lm.merge_and_unload().eval()
    sens["lora_vs_base"] = max_abs(l_lg, q_lg)
    sens["lora_merged_vs_unmerged"] = max_abs(logits_of(merged, main_ids), l_lg)
    assert sens["lora_merged_vs_unmerged"] < 1e-4, sens

    # ---- batch (qwen2/base, one by one)
    batch = {"case": "qwen2/base", "model": "tiny-qwen2", "max_new_tokens": BATCH_NEW, "prompts": []}
    for text, ids in zip(BATCH_TEXTS, batch_ids):
        gb, margin = greedy(q, ids, BATCH_NEW)
        batch["prompts"].append({"text": text, "input_ids": ids, "greedy": gb,
                                 "greedy_min_margin": round(margin, 6)})

    # ---- tiny-llama (transformers-5 dialect, single file, tied, llama3 rope)
    ldir2 = fx / "tiny-llama"
    clean_dir(ldir2)
    torch.manual_seed(SEED + 2)
    lcfg2 = llama_config(vocab, tok)
    lmm = LlamaForCausalLM(lcfg2).float().eval()
    randomize(lmm, 2, lin_std=0.15, emb_std=0.4)
    lmm.save_pretrained(str(ldir2))
    (ldir2 / "generation_config.json").unlink(missing_ok=True)
    check_transformers5_dialect(ldir2 / "config.json")
    copy_tokenizer(tok_dir, ldir2)
    assert sorted(p.name for p in ldir2.glob("*.safetensors")) == ["model.safetensors"]
    llm = LlamaForCausalLM.from_pretrained(str(ldir2), dtype=torch.float32).eval()
    sd = load_file(str(ldir2 / "model.safetensors"))
    assert "lm_head.weight" not in sd, "tied embeddings: lm_head must not be stored"
    assert torch.equal(llm.lm_head.weight, llm.model.embed_tokens.weight)
    ll_lg = record("llama/base", llm, "tiny-llama", extra={
        "gguf": "tiny-llama.gguf",
        "notes": "config.json is the transformers-5 dialect (rope_parameters, dtype). "
                 "tiny-llama.gguf holds the same F32 weights: its logits must match these."})
    hd = lcfg2.hidden_size // lcfg2.num_attention_heads
    inv_default = 1.0 / (LLAMA_ROPE["rope_theta"] ** (torch.arange(0, hd, 2, dtype=torch.float32) / hd))
    factors = llama_rope_factors(LLAMA_ROPE, hd)
    inv_scaled = llm.model.rotary_emb.inv_freq.float()
    assert torch.allclose(inv_scaled, inv_default / torch.tensor(factors), rtol=1e-6), (inv_scaled, factors)
    assert len({round(f, 6) for f in factors}) >= 3, factors  # all three llama3 bands used
    rope = {"llama": {"inv_freq_default": inv_default.tolist(), "freq_factors": factors,
                      "inv_freq_scaled": inv_scaled.tolist()}}
    # sensitivity to llama3 scaling: same weights with plain rope
    plain_cfg = llama_config(vocab, tok)
    plain_cfg.rope_parameters = {"rope_type": "default", "rope_theta": LLAMA_ROPE["rope_theta"]}
    plain = LlamaForCausalLM(plain_cfg).float().eval()
    plain.load_state_dict(llm.state_dict())
    sens["llama3_scaling_vs_plain_rope"] = max_abs(logits_of(plain, main_ids), ll_lg)
    ones = LlamaForCausalLM(lcfg2).float().eval()
    ones.load_state_dict(llm.state_dict())
    with torch.no_grad():
        for n_, p in ones.named_parameters():
            if n_.endswith("norm.weight"):
                p.fill_(1.0)
    sens["llama_norm_weights_vs_ones"] = max_abs(logits_of(ones, main_ids), ll_lg)

    # ---- GGUF (F32 and Q8_0)
    lcfg_json = json.loads((ldir2 / "config.json").read_text())
    state = {k: v for k, v in sd.items()}
    gpath = fx / "tiny-llama.gguf"
    write_llama_gguf(gpath, ldir2, state, lcfg_json, tok, q8=False)
    back = read_gguf_as_hf(gpath, lcfg_json)
    assert torch.allclose(back.pop("__rope_freqs__"), torch.tensor(factors, dtype=torch.float32))
    assert set(back) == set(state), set(back) ^ set(state)
    for k in state:
        assert torch.equal(back[k], state[k]), k
    gguf_check = {"f32_roundtrip": "exact"}
    try:  # transformers' own GGUF loader (it reverses the permutation; it ignores rope_freqs)
        tg = LlamaForCausalLM.from_pretrained(str(fx), gguf_file=gpath.name, dtype=torch.float32).eval()
        diffs = [max_abs(tg.state_dict()[k], v) for k, v in llm.state_dict().items()]
        gguf_check["transformers_gguf_load_max_weight_diff"] = max(diffs)
        from transformers import AutoTokenizer

        gt = AutoTokenizer.from_pretrained(str(fx), gguf_file=gpath.name)
        gguf_check["transformers_gguf_tokenizer_ids_match"] = all(
            gt(e["text"], add_special_tokens=False)["input_ids"] == e["ids"] for e in tokenize)
    except Exception as e:  # noqa: BLE001 (informative only)
        gguf_check["transformers_gguf_load_error"] = f"{type(e).__name__}: {e}"[:300]

    q8path = fx / "tiny-llama-q8.gguf"
    write_llama_gguf(q8path, ldir2, state, lcfg_json, tok, q8=True)
    back8 = read_gguf_as_hf(q8path, lcfg_json)
    back8.pop("__rope_freqs__")
    q8m = LlamaForCausalLM(lcfg2).float().eval()
    q8sd = dict(back8)
    q8sd["lm_head.weight"] = back8["model.embed_tokens.weight"]
    q8m.load_state_dict(q8sd)
    q8_lg = record("llama/q8_0", q8m, "tiny-llama-q8.gguf", extra={
        "notes": "reference = the F32 model run on the dequantized Q8_0 weights "
                 "(exact for dequantize-at-load; a Q8 matmul that also quantizes "
                 "activations will differ by more than 1e-4)."})
    sens["q8_vs_f32"] = max_abs(q8_lg, ll_lg)

    # ---- write expected
    save_file({k: v.contiguous() for k, v in sorted(tensors.items())}, str(fx / "expected.safetensors"),
              metadata={"format": "pt"})  # one key: safetensors orders metadata by hash
    specials = {t: tok.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS}
    expected = {
        "format": "tokenskip-fixtures",
        "version": 1,
        "generator": {
            "script": "scripts/make_fixtures.py", "seed": SEED, "python": sys.version.split()[0],
            "torch": torch.__version__.split("+")[0], "transformers": transformers.__version__,
            "peft": peft.__version__, "tokenizers": tokenizers.__version__,
            "safetensors": safetensors.__version__, "gguf": importlib.metadata.version("gguf"),
        },
        "tolerance": {"logits_max_abs": 1e-4},
        "tokenizer": {
            "dir": "tokenizer", "vocab_size": vocab, "special_tokens": specials,
            "bos_token": None, "eos_token": "<|im_end|>", "eos_token_id": specials["<|im_end|>"],
            "pad_token": "<|endoftext|>", "pad_token_id": specials["<|endoftext|>"],
        },
        "tokenize": tokenize,
        "chat_template": chat,
        "cases": cases,
        "batch": batch,
        "rope": rope,
        "checks": {"sensitivity_max_abs": {k: round(v, 6) for k, v in sens.items()}, "gguf": gguf_check},
    }
    write_json(fx / "expected.json", expected)

    # ---- summary
    assert sens["qwen2_rope_off"] > 1e-2 and sens["lora_vs_base"] > 1e-2, sens
    assert sens["llama3_scaling_vs_plain_rope"] > 1e-2 and sens["llama_norm_weights_vs_ones"] > 1e-2, sens
    print(f"tokenizer vocab {vocab}; main text -> {len(main_ids)} ids; batch lengths "
          f"{[len(b) for b in batch_ids]}")
    for c, v in cases.items():
        print(f"{c:12s} greedy {v['greedy']} (min margin {v['greedy_min_margin']})")
    print("sensitivity (max |dlogit|):", json.dumps(expected["checks"]["sensitivity_max_abs"]))
    print("gguf checks:", json.dumps(gguf_check))
    total = 0
    for p in sorted(fx.rglob("*")):
        if p.is_file():
            total += p.stat().st_size
            print(f"{p.stat().st_size:>10,d}  {p.relative_to(fx)}")
    print(f"{total:>10,d}  total ({total / 2**20:.2f} MiB) in {fx}")
    if total > 3 * 2**20:
        print("WARNING: fixtures exceed 3 MiB", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
