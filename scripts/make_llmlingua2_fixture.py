#!/usr/bin/env python3
"""Make tests/fixtures/llmlingua2-tiny/: a tiny random XLMRobertaForTokenClassification
(LLMLingua-2's architecture) with a tiny sentencepiece-Unigram tokenizer, and the keep
probabilities PyTorch computes for fixed texts, for the Rust parity test
(tests/llmlingua2_parity.rs, tolerance 1e-4).

Usage:
    python3 scripts/make_llmlingua2_fixture.py [--out DIR]

Needs torch, transformers (5.x) and tokenizers. Deterministic: same library versions give
byte-identical files (expected.json records them under "generator").

Files (about 200 KB):
  config.json, model.safetensors   XLMRobertaForTokenClassification: hidden 32, 2 layers,
                                   4 heads, intermediate 64, max_position_embeddings 514
                                   (512 tokens, as XLM-R), 2 labels, gelu (erf).
                                   Weights scaled up (std 0.15, embeddings 0.4, LayerNorm
                                   weights U(0.5, 1.5), classifier std 0.15) so that keep
                                   probabilities spread over (0, 1) instead of sitting at 0.5.
  tokenizer.json                   Unigram built by hand (words, stems + suffixes,
                                   characters; see make_tokenizer), laid out like XLM-R's: <s>=0 <pad>=1 </s>=2 <unk>=3 ... <mask>,
                                   NFKC + collapse spaces, WhitespaceSplit + Metaspace(▁),
                                   post-processor `<s> $A </s>`.
  expected.json                    per text: ids and tokens (no special tokens), chunks
                                   (subword ranges, LLMLingua-2 rule below), probs (softmax
                                   label 1 per subword, all chunks in ONE right-padded batch
                                   with an attention mask), words (LLMLingua-2's merge with
                                   force_tokens ["Step", ":"] and force_reserve_digit:
                                   subword range + mean score).

Chunk rule (as src/importance/llmlingua2.rs documents): chunks of at most 510 subwords
(512 with <s>, </s>), each cut after the last "." (or line-break) token that fits.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

import tokenizers
import torch
import transformers
from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
from transformers import XLMRobertaConfig, XLMRobertaForTokenClassification

ROOT = Path(__file__).resolve().parents[1]
FORCE_TOKENS = ["Step", ":"]
MAX_LEN = 512
SEED = 20250212

NAMES = ["Janet", "Tom", "Mia", "Omar", "Lena", "Ravi"]
THINGS = ["eggs", "apples", "books", "coins", "pencils", "marbles"]
VERBS = ["buys", "sells", "gives away", "finds", "eats", "loses"]
FILLER = ["So", "Then", "Now", "First", "Next", "Therefore", "Well", "Basically"]


def sentence(rng: random.Random, top: int = 99) -> str:
    a, b = rng.randint(2, top), rng.randint(2, min(40, top))
    n, t, v, f = rng.choice(NAMES), rng.choice(THINGS), rng.choice(VERBS), rng.choice(FILLER)
    forms = [
        f"{f}, {n} {v} {b} {t}.",
        f"{n} has {a} {t} and {v} {b} of them.",
        f"{f} we compute {a} + {b} = {a + b} {t}.",
        f"Step {rng.randint(1, 9)}: {n} now has {a} * {b} = {a * b} {t}.",
        f"{f} let us think about how many {t} are left: {a} - {b} = {a - b}.",
    ]
    return rng.choice(forms)


WORDS = (
    "Step The She final answer is has and eats of them the for each so we compute now let us "
    "think about how many are left gives away finds buys Janet Tom Mia Omar Lena Ravi eggs "
    "Then Now First Next Therefore Well Basically"
).split()
# Words that only exist as a stem plus a suffix piece, so words span several subwords.
STEMS = "remain sell lose apple book coin pencil marble dollar".split()
SUFFIXES = "s ing ed".split()


def make_tokenizer() -> Tokenizer:
    """A hand-built Unigram vocabulary: whole words, stems + suffixes, then characters.

    Scores are log-probabilities; longer pieces score higher than their characters, so
    known words are one subword, stems and suffixes two, and anything else falls back to
    characters, as sentencepiece does with rare words."""
    pieces = [("<s>", 0.0), ("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("▁", -3.0)]
    pieces += [("▁" + w, -4.0 - 0.01 * i) for i, w in enumerate(WORDS)]
    pieces += [("▁" + w, -5.0 - 0.01 * i) for i, w in enumerate(STEMS)]
    pieces += [(w, -5.0 - 0.01 * i) for i, w in enumerate(SUFFIXES)]
    chars = sorted(set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,:;$\\{}*+-=?!'()"))
    pieces += [(c, -8.0 - 0.001 * i) for i, c in enumerate(chars)]
    tok = Tokenizer(models.Unigram(pieces, unk_id=3, byte_fallback=False))
    tok.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")])
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")]
    )
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    tok.add_special_tokens(["<mask>"])
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>", special_tokens=[("<s>", 0), ("</s>", 2)]
    )
    assert [tok.token_to_id(t) for t in ["<s>", "<pad>", "</s>", "<unk>"]] == [0, 1, 2, 3]
    return tok


def chunk(tokens: list[str], max_len: int) -> list[tuple[int, int]]:
    def is_end(t: str) -> bool:
        return t.lstrip("▁") == "." or "\n" in t

    out, st = [], 0
    while st < len(tokens):
        hard = min(st + max_len, len(tokens))
        if hard == len(tokens):
            out.append((st, hard))
            break
        ed = hard
        for i in range(hard - 1, st, -1):
            if is_end(tokens[i]):
                ed = i + 1
                break
        out.append((st, ed))
        st = ed
    return out


def merge_words(tokens: list[str], probs: list[float]) -> list[dict]:
    """LLMLingua-2's __merge_token_to_word with force_reserve_digit, then the mean."""
    words: list[dict] = []
    for i, (tok, p) in enumerate(zip(tokens, probs)):
        pure = tok.lstrip("▁")
        forced = pure in FORCE_TOKENS
        if not words or forced or tok.startswith("▁"):
            q = 1.0 if forced else p
            q = 1.0 if any(c.isdigit() for c in tok) else q
            words.append({"subwords": [i, i + 1], "probs": [q]})
        else:
            words[-1]["subwords"][1] = i + 1
            words[-1]["probs"].append(1.0 if any(c.isdigit() for c in tok) else p)
    return [{"subwords": w["subwords"], "score": sum(w["probs"]) / len(w["probs"])} for w in words]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=ROOT / "tests" / "fixtures" / "llmlingua2-tiny")
    args = ap.parse_args()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(SEED)
    torch.manual_seed(SEED)

    tok = make_tokenizer()
    tok.save(str(out / "tokenizer.json"))

    cfg = XLMRobertaConfig(
        vocab_size=tok.get_vocab_size(),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=64,
        max_position_embeddings=MAX_LEN + 2,
        type_vocab_size=1,
        pad_token_id=1,
        bos_token_id=0,
        eos_token_id=2,
        hidden_act="gelu",
        layer_norm_eps=1e-5,
        num_labels=2,
        architectures=["XLMRobertaForTokenClassification"],
    )
    cfg._attn_implementation = "eager"
    model = XLMRobertaForTokenClassification(cfg).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "LayerNorm" in name and name.endswith("weight"):
                p.uniform_(0.5, 1.5)
            elif name.endswith("bias"):
                p.normal_(0.0, 0.1)
            elif "embeddings" in name:
                p.normal_(0.0, 0.4)
            elif name.startswith("classifier"):
                p.normal_(0.0, 0.15)
            else:
                p.normal_(0.0, 0.15)
    model.save_pretrained(out, safe_serialization=True)

    short = (
        "Step 1: Janet has 16 eggs and eats 3 of them.\n"
        "Step 2: She sells the remaining 13 eggs for $2 each, so 13 * 2 = 26 dollars.\n\n"
        "The final answer is: $\\boxed{26}$"
    )
    long_rng = random.Random(SEED + 1)
    long = " ".join(sentence(long_rng) for _ in range(45))
    cases = []
    for name, text in [("short", short), ("long", long)]:
        enc = tok.encode(text, add_special_tokens=False)
        ids, tokens = enc.ids, enc.tokens
        chunks = chunk(tokens, MAX_LEN - 2)
        rows = [[0] + ids[a:b] + [2] for a, b in chunks]
        t = max(len(r) for r in rows)
        input_ids = torch.tensor([r + [1] * (t - len(r)) for r in rows])
        mask = torch.tensor([[1] * len(r) + [0] * (t - len(r)) for r in rows])
        with torch.no_grad():
            probs = torch.softmax(model(input_ids=input_ids, attention_mask=mask).logits, dim=-1)[..., 1]
            # Padding must not change anything: each chunk alone gives the same.
            for k, r in enumerate(rows):
                alone = torch.softmax(model(input_ids=torch.tensor([r])).logits, dim=-1)[0, :, 1]
                assert torch.allclose(alone, probs[k, : len(r)], atol=1e-6)
        sub = []
        for k, (a, b) in enumerate(chunks):
            sub.extend(probs[k, 1 : 1 + b - a].tolist())
        assert len(sub) == len(ids)
        cases.append(
            {
                "name": name,
                "text": text,
                "ids": ids,
                "tokens": tokens,
                "chunks": [list(c) for c in chunks],
                "probs": [round(p, 7) for p in sub],
                "words": [{"subwords": w["subwords"], "score": round(w["score"], 7)} for w in merge_words(tokens, sub)],
            }
        )
        print(f"{name}: {len(ids)} subwords, {len(chunks)} chunks, probs {min(sub):.3f}..{max(sub):.3f}")

    expected = {
        "format": "tokenskip-llmlingua2-expected",
        "version": 1,
        "generator": {"torch": torch.__version__, "transformers": transformers.__version__, "tokenizers": tokenizers.__version__},
        "tolerance": 1e-4,
        "force_tokens": FORCE_TOKENS,
        "force_reserve_digit": True,
        "max_len": MAX_LEN,
        "cases": cases,
    }
    (out / "expected.json").write_text(json.dumps(expected, indent=1, ensure_ascii=False) + "\n")
    total = sum(f.stat().st_size for f in out.iterdir())
    print(f"wrote {out} ({total / 1024:.0f} KiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
