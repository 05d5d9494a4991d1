#!/usr/bin/env python3
"""Run TokenSkip's own answer grader on the answer-checker corpus and compare with our labels.

Needs a local checkout of https://github.com/hemingkx/TokenSkip (we never copy its code),
and sympy, regex, numpy; sympy's LaTeX parser additionally needs
antlr4-python3-runtime==4.11.* (with any other antlr version `parse_latex` raises, the
reference silently falls back to `parse_expr`, and some verdicts change: run once in each
environment to see which).

For each case it does what TokenSkip's evaluation.py does:
  gsm8k:          prediction = extract_last_single_answer(question, output)
                  answer     = reference.replace(",", "")
  math/synthetic: prediction = extract_math_answer(question, output)
                  answer     = extract_math_answer(question, "$\\boxed{" + reference + "}$")
  correct = False if the prediction is empty, else eval_math({prediction, answer})
with question = "" (the corpus has none).

A checkout without copying anything into this repository:
  git clone https://github.com/hemingkx/TokenSkip /tmp/TokenSkip   (or: git -C MIRROR archive
  HEAD data_processing eval | tar -x -C /tmp/TokenSkip)
Both environments:
  python3 -m venv --system-site-packages /tmp/tsvenv
  /tmp/tsvenv/bin/pip install "antlr4-python3-runtime==4.11.1"      # parse_latex works
  /tmp/tsvenv/bin/python scripts/tokenskip_grader_check.py /tmp/TokenSkip --annotate
  python3 scripts/tokenskip_grader_check.py /tmp/TokenSkip --annotate  # with antlr4 4.13

usage: python3 scripts/tokenskip_grader_check.py TOKENSKIP_DIR [CASES] [--annotate]
  --annotate  store TokenSkip's verdict in CASES, as "tokenskip" when sympy's parse_latex
              works and as "tokenskip_nolatex" when it does not; the Rust corpus test then
              requires tokenskip-v1 / tokenskip-nolatex-v1 to reproduce it
"""
import argparse
import contextlib
import io
import json
import os
import signal
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_CASES = os.path.join(HERE, "..", "tests", "fixtures", "answers", "cases.jsonl")
TIMEOUT_S = 10


class Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise Timeout()


def load_reference(tokenskip_dir):
    sys.path.insert(0, os.path.abspath(tokenskip_dir))
    try:
        from data_processing.answer_extraction import extract_last_single_answer, extract_math_answer
        from eval.eval_script import eval_math
    except ImportError as e:
        raise SystemExit(f"cannot import TokenSkip's grader from {tokenskip_dir}: {e} "
                         "(needs data_processing/ and eval/ of the checkout, and sympy, regex, numpy)")
    return extract_last_single_answer, extract_math_answer, eval_math


def environment():
    import sympy
    try:
        from importlib.metadata import version
        antlr = version("antlr4-python3-runtime")
    except Exception:
        antlr = "not installed"
    try:
        from sympy.parsing.latex import parse_latex
        parse_latex("1+1")
        latex, field = "parse_latex works", "tokenskip"
    except Exception as e:
        latex = f"parse_latex unavailable ({type(e).__name__}), reference falls back to parse_expr"
        field = "tokenskip_nolatex"
    env = f"python {sys.version.split()[0]}, sympy {sympy.__version__}, antlr4 runtime {antlr}: {latex}"
    return env, field


def tokenskip_verdict(fns, case):
    extract_single, extract_math, eval_math = fns
    output, reference = case["prediction"], case["reference"]
    if case["source"] == "gsm8k":
        pred = extract_single("", output, task="cot")
        answer = reference.replace(",", "")
    else:
        pred = extract_math("", output, task="cot")
        answer = extract_math("", "$\\boxed{" + reference + "}$", task="cot")
    if len(pred) == 0:
        return False, pred
    item = {"prediction": pred, "answer": answer}
    with contextlib.redirect_stdout(io.StringIO()):
        return bool(eval_math(item)), pred


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("tokenskip_dir")
    ap.add_argument("cases", nargs="?", default=DEFAULT_CASES)
    ap.add_argument("--annotate", action="store_true")
    args = ap.parse_args()

    fns = load_reference(args.tokenskip_dir)
    env, field = environment()
    print(env)
    with open(args.cases, encoding="utf-8") as f:
        cases = [json.loads(line) for line in f]

    signal.signal(signal.SIGALRM, _alarm)
    agree, disagreements, timeouts = 0, [], 0
    for i, case in enumerate(cases, 1):
        signal.alarm(TIMEOUT_S)
        try:
            verdict, pred = tokenskip_verdict(fns, case)
        except Timeout:
            verdict, pred, timeouts = False, "<timeout>", timeouts + 1
        except Exception as e:  # the reference raises on some inputs; evaluation would crash
            verdict, pred = False, f"<{type(e).__name__}: {e}>"
        finally:
            signal.alarm(0)
        case[field] = verdict
        if verdict == case["correct"]:
            agree += 1
        else:
            disagreements.append((i, case, pred))

    n = len(cases)
    print(f"TokenSkip grader agrees with our labels on {agree}/{n} cases ({100.0 * agree / n:.1f}%)"
          + (f", {timeouts} timeouts" if timeouts else ""))
    by_source = {}
    for i, case, _ in disagreements:
        by_source[case["source"]] = by_source.get(case["source"], 0) + 1
    if disagreements:
        print(f"{len(disagreements)} disagreements {by_source}:")
    for i, case, pred in disagreements:
        print(f"  line {i} [{case['source']}] label={case['correct']} {field}={case[field]}: "
              f"{case['note']} | extracted {pred!r} | reference {case['reference']!r}")

    if args.annotate:
        with open(args.cases, "w", encoding="utf-8") as f:
            for case in cases:
                f.write(json.dumps(case, ensure_ascii=False) + "\n")
        print(f"annotated {args.cases} with the field {field!r}")


if __name__ == "__main__":
    main()
