#!/usr/bin/env python3
"""Build tests/fixtures/answers/cases.jsonl, the answer-checker test corpus.

Answers are drawn from GSM8K and MATH-500 (../shared/data, or --data) and wrapped into
prediction texts in the styles models write (TokenSkip's "The final answer is:
$\\boxed{..}$", "The answer is ..", a plain trailing number, Minerva's "Final Answer"),
with reformatted equivalents (labelled correct) and near misses (labelled incorrect).
`correct` is the mathematically right verdict, i.e. what the numeric-v1 grader must say.
The fields `tokenskip` and `tokenskip_nolatex` (what TokenSkip's own grader says with and
without sympy's LaTeX parser) are added afterwards by running
scripts/tokenskip_grader_check.py --annotate once in each environment; regenerating this
file drops them, so re-run both (see that script's docstring).

Deterministic: the same data gives the same file. Only short strings are written (the
last line of a GSM8K solution, never whole records).

usage: python3 scripts/make_answer_cases.py [--data ../shared/data] [--out tests/fixtures/answers/cases.jsonl]
"""
import argparse
import json
import os
import random
import re

HERE = os.path.dirname(os.path.abspath(__file__))


def load_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def case(prediction, reference, correct, source, note):
    return {"prediction": prediction, "reference": reference, "correct": correct,
            "source": source, "note": note}


def boxed(cot, ans):
    return f"{cot}\n\nThe final answer is: $\\boxed{{{ans}}}$"


def with_commas(n):
    return f"{n:,}"


def gsm8k_cases(data_dir, rng):
    rows = []
    for split in ("test", "train"):
        for i, r in enumerate(load_jsonl(os.path.join(data_dir, "gsm8k", f"{split}.jsonl"))):
            cot, ans = r["answer"].split("\n#### ")
            last = re.sub(r"<<[^<>]*>>", "", cot.strip().split("\n")[-1])
            rows.append((f"{split}:{i}", ans.strip(), last))
    commas = [r for r in rows if "," in r[1]]
    negatives = [r for r in rows if r[1].startswith("-")]
    plain = [r for r in rows if r not in commas and r not in negatives]
    picked = rng.sample(commas, 10) + negatives + rng.sample(plain, 12)
    out = []
    for rid, ref, last in picked:
        n = int(ref.replace(",", ""))
        src = "gsm8k"
        out.append(case(boxed(last, n), ref, True, src, f"{rid} boxed plain integer"))
        out.append(case(f"{last}\nThe answer is {ref}.", ref, True, src, f"{rid} 'The answer is'"))
        nums = re.findall(r"-?\d[\d,]*(?:\.\d+)?", last)
        if nums and nums[-1].rstrip(",").replace(",", "") == str(n):
            out.append(case(last, ref, True, src, f"{rid} last number of the dataset's own last line"))
        if abs(n) >= 1000:
            out.append(case(boxed(last, with_commas(n)), ref, True, src,
                            f"{rid} thousands separators in the box"))
            out.append(case(boxed(last, f"\\${with_commas(n)}.00"), ref, True, src,
                            f"{rid} dollars, separators and .00"))
        else:
            out.append(case(boxed(last, f"{n}.0"), ref, True, src, f"{rid} trailing .0"))
        out.append(case(boxed(last, n + 1), ref, False, src, f"{rid} off by one"))
        if n < 0:
            out.append(case(boxed(last, -n), ref, False, src, f"{rid} sign dropped"))
        elif rng.random() < 0.5:
            out.append(case(boxed(last, n * 10), ref, False, src, f"{rid} wrong magnitude"))
    # Styles models produce on GSM8K that the picks above do not cover.
    extra = [
        ("She has 18 - 3 = 15 left, so she makes 15 * 2 = $30.\n\nThe final answer is: $\\boxed{\\$30}$", "30", True, "dollar sign inside the box"),
        ("That is 25% of the class.\nThe answer is: 25\\%", "25", True, "percent sign on a percentage answer"),
        ("The answer is 18 apples.", "18", True, "unit word after 'The answer is' (the reference keeps '18apples')"),
        ("So the total is \\boxed{18 \\text{ dollars}}", "18", True, "\\text unit in the box"),
        ("First 18 eggs, then she sells 20 of them.", "18", False, "the last number is not the answer"),
        ("The final answer is: $\\boxed{1080}$", "1,080", True, "reference with separators, prediction without"),
        ("So 1,080 apples in total.", "1,080", True, "separators in a last-number prediction"),
        ("The final answer is: $\\boxed{108}$", "1,080", False, "separator confusion: 108 is not 1,080"),
        ("The final answer is: $\\boxed{1,450,000}$", "1,449,000", False, "large integers differ by 0.07%"),
        ("The final answer is: $\\boxed{5000}$", "50", False, "reference*100 (the reference grader accepts it)"),
        ("The final answer is: $\\boxed{0.5}$", "50", False, "reference/100 (the reference grader accepts it)"),
        ("It costs $2.50 per pound, so \\boxed{2.5}", "2.5", True, "decimal in the box"),
        ("The temperature drops to -7 degrees", "-7", True, "negative last number"),
        ("The temperature is 10-3 = 7", "-3", False, "a minus after a digit is subtraction"),
        ("The final answer is: $\\boxed{}$", "5", False, "empty box"),
        ("I could not solve this problem.", "5", False, "no answer at all"),
        ("#### 72", "72", True, "GSM8K's own answer line"),
    ]
    out += [case(p, r, c, "gsm8k", n) for p, r, c, n in extra]
    return out


# MATH-500 answers (each must occur in the data) with equivalent rewrites and near misses.
MATH_VARIANTS = {
    "\\frac{14}{3}": (["14/3", "\\dfrac{14}{3}", "4.6667"], ["4.6", "\\frac{3}{14}"]),
    "\\frac{3}{56}": (["3/56", "\\frac3{56}"], ["\\frac{3}{65}"]),
    "\\frac43": (["\\frac{4}{3}", "4/3", "1.3333"], ["\\frac34"]),
    "\\frac 59": (["\\frac{5}{9}", "5/9"], ["\\frac{9}{5}"]),
    "\\frac9{19}": (["\\frac{9}{19}", "9/19"], ["\\frac{19}{9}"]),
    "-\\frac{35}{9}": (["\\frac{-35}{9}", "-35/9"], ["\\frac{35}{9}"]),
    "-\\frac{24}{25}": (["-0.96"], ["0.96"]),
    "\\dfrac{17}{50}": (["0.34", "\\frac{17}{50}"], ["0.35"]),
    "1\\frac{4}{5}": (["\\frac{9}{5}", "1.8"], ["\\frac{4}{5}"]),
    "137 \\frac{1}{2}": (["137.5", "\\frac{275}{2}"], ["137"]),
    "3\\sqrt{13}": (["3 \\sqrt{13}", "\\sqrt{117}"], ["\\sqrt{39}", "13\\sqrt{3}"]),
    "11\\sqrt2": (["11\\sqrt{2}", "\\sqrt{242}"], ["\\sqrt{22}"]),
    "\\sqrt{51}": (["\\sqrt {51}"], ["51"]),
    "\\frac{3\\sqrt{3}}{4}": (["\\frac{3}{4}\\sqrt{3}", "\\dfrac{3\\sqrt3}{4}"], ["\\frac{3\\sqrt{3}}{2}"]),
    "\\frac{\\sqrt{3}}{3}": (["\\frac{1}{\\sqrt{3}}", "\\frac{\\sqrt3}{3}"], ["\\sqrt{3}"]),
    "3 \\pm 2 \\sqrt{2}": (["3\\pm2\\sqrt{2}"], ["3+2\\sqrt{2}"]),
    "-\\frac{\\pi}{6}": (["-\\dfrac{\\pi}{6}"], ["\\frac{\\pi}{6}"]),
    "288 \\pi": (["288\\pi"], ["288"]),
    "18+2\\pi": (["2\\pi+18", "2\\pi + 18"], ["18+\\pi"]),
    "\\frac{20000}{\\pi}": (["\\dfrac{20000}{\\pi}"], ["20000\\pi"]),
    "90^\\circ": (["90", "90^{\\circ}", "90^\\circ."], ["180^\\circ"]),
    "120^\\circ": (["120"], ["60"]),
    "\\frac{270}7\\text{ degrees}": (["\\frac{270}{7}", "\\frac{270}{7}^\\circ"], ["\\frac{7}{270}"]),
    "\\text{Evelyn}": (["Evelyn", "\\text{ Evelyn}"], ["\\text{Navin}"]),
    "\\text{east}": (["East", "east"], ["\\text{west}"]),
    "\\text{(C)}": (["(C)", "C", "\\text{C}"], ["(B)", "\\text{(D)}"]),
    "\\text{ellipse}": (["\\text{Ellipse}"], ["\\text{parabola}"]),
    "\\left( 3, \\frac{\\pi}{2} \\right)": (["(3,\\frac{\\pi}{2})", "\\left(3, \\dfrac{\\pi}{2}\\right)"],
                                              ["\\left( \\frac{\\pi}{2}, 3 \\right)", "(3, \\pi)"]),
    "(6,31,-1)": (["(6, 31, -1)"], ["(6,31,1)", "(6,-1,31)"]),
    "(-2,1)": (["\\left(-2, 1\\right)"], ["(1,-2)"]),
    "\\left( \\frac{3}{2}, -13 \\right)": (["(1.5,-13)", "\\left(\\frac32,-13\\right)"], ["(-13, \\frac{3}{2})"]),
    "(3,4]": (["(3, 4]"], ["(3,4)", "[3,4]"]),
    "(2,\\infty)": (["(2, \\infty)", "\\left(2,\\infty\\right)"], ["[2,\\infty)"]),
    "(-\\infty, 0]": (["(-\\infty,0]"], ["(-\\infty,0)"]),
    "(-\\infty, 2) \\cup (3, \\infty)": (["(-\\infty,2)\\cup(3,\\infty)", "(3, \\infty) \\cup (-\\infty, 2)"],
                                        ["(-\\infty,2]\\cup(3,\\infty)"]),
    "(0,9) \\cup (9,36)": (["(0, 9) \\cup (9, 36)"], ["(0,36)"]),
    "\\left[ \\frac{\\pi^2}{8}, \\frac{5 \\pi^2}{4} \\right]": (["[\\frac{\\pi^2}{8},\\frac{5\\pi^2}{4}]"],
                                                             ["(\\frac{\\pi^2}{8},\\frac{5\\pi^2}{4})"]),
    "x \\in [-2,7]": (["[-2,7]", "[-2, 7]"], ["(-2,7)"]),
    "1,-2": (["-2, 1", "1, -2"], ["1, 2"]),
    "3, 5, 7": (["3,5,7", "7, 5, 3"], ["3, 5"]),
    "\\{1\\pm\\sqrt{5},-2\\}": (["\\{-2, 1\\pm\\sqrt{5}\\}"], ["\\{1\\pm\\sqrt{5}\\}"]),
    "x=5": (["5", "x = 5"], ["x=-5"]),
    "y = 2x + 3": (["y=2x+3", "y = 3 + 2x"], ["y = 2x - 3"]),
    "5x - 7y + 11z + 4 = 0": (["5x-7y+11z+4=0", "-5x + 7y - 11z - 4 = 0"], ["5x - 7y + 11z - 4 = 0"]),
    "x^5 - x^4 + x^3 - x^2 + x - 1": (["x^5-x^4+x^3-x^2+x-1", "-1 + x - x^2 + x^3 - x^4 + x^5"],
                                       ["x^5 - x^4 + x^3 - x^2 + x + 1"]),
    "(a+5)(b+2)": (["(b+2)(a+5)", "ab+2a+5b+10"], ["(a+2)(b+5)"]),
    "6r^2-4r-24": (["6r^2 - 4r - 24", "2(3r^2-2r-12)"], ["6r^2-4r+24"]),
    "2k+2": (["2(k+1)", "2 + 2k"], ["2k"]),
    "\\frac{11+9a}{20}": (["\\frac{9a+11}{20}"], ["\\frac{11+9a}{2}"]),
    "6 - 5i": (["6-5i", "-5i + 6"], ["6+5i"]),
    "1+274i": (["1 + 274i"], ["274i"]),
    "52_8": (["52_{8}"], ["42"]),
    "4210_{5}": (["4210_5"], ["4210"]),
    "10,\\!080": (["10080", "10,080"], ["1080"]),
    "11,\\! 111,\\! 111,\\! 100": (["11111111100", "11,111,111,100"], ["11111111000"]),
    "58,500": (["58500", "58{,}500"], ["5850"]),
    "\\$32,\\!348": (["32348", "\\$32,348", "32,348 dollars"], ["32438"]),
    "\\$18.90": (["18.90", "18.9", "\\$18.9"], ["19"]),
    "5.4 \\text{ cents}": (["5.4", "5.40"], ["54"]),
    "864 \\mbox{ inches}^2": (["864", "864 \\text{ in}^2"], ["846"]),
    "15\\mbox{ cm}^2": (["15", "15 \\text{cm}^2"], ["16"]),
    ".0000672": (["0.0000672", "6.72\\times10^{-5}"], ["0.000672"]),
    ".35625": (["0.35625", "\\frac{57}{160}"], ["0.3652"]),
    "1.25": (["\\frac{5}{4}", "1.250"], ["1.2"]),
    "-50": (["-50.0"], ["50"]),
    "\\pi": (["\\pi"], ["2\\pi"]),
    "0": (["0.0", "-0"], ["1"]),
    "2220": (["2,220"], ["2202"]),
    "\\begin{pmatrix} -1/3 \\\\ 2/3 \\\\ 5/3 \\end{pmatrix}": (
        ["\\begin{pmatrix} -\\frac{1}{3} \\\\ \\frac{2}{3} \\\\ \\frac{5}{3} \\end{pmatrix}"],
        ["\\begin{pmatrix} 1/3 \\\\ 2/3 \\\\ 5/3 \\end{pmatrix}"]),
    "\\begin{pmatrix} -1 & 0 \\\\ 0 & -1 \\end{pmatrix}": (
        ["\\begin{bmatrix} -1 & 0 \\\\ 0 & -1 \\end{bmatrix}"],
        ["\\begin{pmatrix} 1 & 0 \\\\ 0 & 1 \\end{pmatrix}"]),
    "\\cot x": (["\\cot{x}"], ["\\tan x"]),
    "p - q": (["-q + p"], ["q - p"]),
}

MATH_WRAPPERS = [
    lambda a: f"Simplifying, the answer is $\\boxed{{{a}}}$.",
    lambda a: boxed("Putting everything together.", a),
    lambda a: f"Therefore, we obtain\n\\[\\boxed{{{a}}}\\]",
]


def math_cases(data_dir, rng):
    answers = {r["answer"] for r in load_jsonl(os.path.join(data_dir, "math500", "test.jsonl"))}
    out = []
    for ref, (good, bad) in MATH_VARIANTS.items():
        if ref not in answers:
            raise SystemExit(f"MATH_VARIANTS key {ref!r} is not a MATH-500 answer")
        wrap = rng.choice(MATH_WRAPPERS)
        out.append(case(wrap(ref), ref, True, "math500", "the reference answer itself, boxed"))
        for g in good:
            out.append(case(rng.choice(MATH_WRAPPERS)(g), ref, True, "math500", f"equivalent form {g!r}"))
        for b in bad:
            out.append(case(rng.choice(MATH_WRAPPERS)(b), ref, False, "math500", f"near miss {b!r}"))
    return out


SYNTHETIC = [
    ("so the answer is \\boxed 5.", "5", True, "\\boxed without braces"),
    ("we get \\fbox{12}", "12", True, "\\fbox"),
    ("\\boxed{\\frac{\\sqrt{3}}{2}}", "\\frac{\\sqrt{3}}{2}", True, "nested braces"),
    ("First \\boxed{3}, but correcting: \\boxed{4}", "4", True, "the last box wins"),
    ("First \\boxed{4}, but correcting: \\boxed{3}", "4", False, "the last box wins (wrong)"),
    ("put it in \\boxed{ 12 and then the total is 13", "13", True, "unclosed box falls through to the last number"),
    ("Final Answer: The final answer is $\\frac{1}{2}$. I hope it is correct.", "0.5", True, "Minerva format"),
    ("The final answer is $\\frac{3}{4}$.", "0.75", True, "'The final answer is' with $..$"),
    ("So the answer is: 42. Then we check: 40 + 2 = 42.", "42", True, "'answer is' cut at the sentence"),
    ("The point is (1,2)", "2", True, "last number inside a tuple"),
    ("\\boxed{2\\cdot 3}", "6", True, "\\cdot is multiplication (the reference deletes it: 23)"),
    ("\\boxed{2 \\times 3^2}", "18", True, "\\times and powers"),
    ("\\boxed{\\frac{1}{2}}", "0.5", True, "fraction vs decimal"),
    ("\\boxed{-\\frac{3}{4}}", "-0.75", True, "negative fraction vs decimal"),
    ("\\boxed{2\\sqrt{3}}", "\\sqrt{12}", True, "radicals compared numerically"),
    ("\\boxed{\\sqrt{8}}", "2\\sqrt{2}", True, "radicals compared numerically"),
    ("\\boxed{\\sqrt{8}}", "2\\sqrt{3}", False, "different radicals"),
    ("\\boxed{\\frac{\\pi}{2}}", "1.5708", True, "pi expression vs decimal"),
    ("\\boxed{50\\%}", "50", True, "percent sign dropped"),
    ("\\boxed{50}", "50\\%", True, "percent sign dropped on the reference"),
    ("\\boxed{0.5}", "50\\%", True, "0.5 is 50% (a percent sign means /100)"),
    ("\\boxed{0.5}", "50", False, "0.5 is not 50 when neither side has a percent sign"),
    ("\\boxed{x^2+7x+10}", "(x+2)(x+5)", True, "polynomial identity"),
    ("\\boxed{x^2+7x+10}", "(x+2)(x+4)", False, "polynomial identity (wrong)"),
    ("\\boxed{\\text{(A)}}", "A", True, "multiple choice letter"),
    ("\\boxed{\\left[ 0, 1 \\right)}", "[0,1)", True, "\\left/\\right interval"),
    ("\\boxed{[0,1]}", "[0,1)", False, "closed vs half-open interval"),
    ("\\boxed{\\{1,2,3\\}}", "\\{3,2,1\\}", True, "sets are unordered"),
    ("\\boxed{(1,2,3)}", "(3,2,1)", False, "tuples are ordered"),
    ("\\boxed{10^{3}}", "1000", True, "power of ten"),
    ("\\boxed{3.0}", "3", True, "trailing .0"),
    ("\\boxed{3.10}", "3.1", True, "trailing zero"),
    ("\\boxed{.5}", "0.5", True, "leading dot"),
    ("\\boxed{k = 2}", "2", True, "leading k="),
    ("\\boxed{45^{\\circ}}", "45", True, "degrees"),
    ("\\boxed{1,000,000}", "1000000", True, "thousands separators"),
    ("\\boxed{1,2}", "12", False, "a comma list is not a number"),
    ("\\boxed{\\dfrac{1}{3}}", "0.3333", True, "dfrac vs rounded decimal"),
    ("\\boxed{0.33}", "\\frac{1}{3}", False, "rounded too far"),
    ("\\boxed{\\frac{2}{4}}", "\\frac{1}{2}", True, "unreduced fraction"),
    ("\\boxed{\\sqrt[3]{27}}", "3", True, "cube root"),
    ("\\boxed{2^{-1}}", "\\frac12", True, "negative exponent"),
    ("\u00e9l\u00e8ve \\boxed{\u221a2}", "\\sqrt{2}", True, "non-ASCII text and a unicode root sign"),
    ("\\boxed{\u221216}", "-16", True, "unicode minus"),
    ("", "5", False, "empty prediction"),
    ("The answer is", "5", False, "nothing after 'answer is'"),
    ("The final answer is: $\\boxed{7}$.\nThe answer is 8.", "7", True, "a box beats 'answer is'"),
    # Stress the reference grader's own rules (its verdicts are recorded by the check script).
    ("So the answer is $\\boxed{25}\\%$.", "25", True, "percent after the box"),
    ("So we get \\boxed{25}%.", "25", True, "bare percent right after the box"),
    ("\\boxed{25\\%}", "0.25", True, "25% is 0.25"),
    ("The answer is 3 p.m.", "3", True, "p.m. suffix"),
    ("\\boxed{12 \\mbox{ cm}}", "12", True, "\\mbox unit"),
    ("\\boxed{12{cm}^2}", "12", True, "{cm}^2 unit"),
    ("\\boxed{3-4j}", "3-4i", True, "j as the imaginary unit"),
    ("\\boxed{2 \\text{ and } 3}", "2, 3", True, "\\text{ and } list"),
    ("\\boxed{3 \\text{ and } 2}", "2, 3", True, "\\text{ and } list, reordered"),
    ("\\boxed{(-\\infty, 1) \\cup (2, \\infty)}", "(-\\infty,1)\\cup(2,\\infty)", True, "union of intervals"),
    ("\\boxed{(-inf, 1)}", "(-\\infty, 1)", True, "inf spelled out"),
    ("\\boxed{[1, infinity)}", "[1,\\infty)", True, "infinity spelled out"),
    ("\\boxed{x = 3}", "3", True, "x = on the prediction"),
    ("\\boxed{3}", "x = 3", True, "x = on the reference"),
    ("\\boxed{x = 4}", "x = 3", False, "x = on both, wrong value"),
    ("\\boxed{y = -2x}", "y = -2x", True, "line equation verbatim"),
    ("\\boxed{2x + y = 0}", "y = -2x", True, "line equation rearranged"),
    ("\\boxed{\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}}", "\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}", True, "column vector"),
    ("\\boxed{\\begin{pmatrix} 0.5 \\\\ 2 \\end{pmatrix}}", "\\begin{pmatrix} 1/2 \\\\ 2 \\end{pmatrix}", True, "column vector, decimal entry"),
    ("\\boxed{\\begin{pmatrix} 2 \\\\ 1 \\end{pmatrix}}", "\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}", False, "column vector, swapped"),
    ("```python\nprint(6*7)\n```\n```output\n42\n```", "42", True, "program output block"),
    ("Final Answer: The final answer is $(2, 3)$. I hope it is correct.", "(2,3)", True, "Minerva format tuple"),
    ("The answer is: $-\\frac{1}{3}$", "-1/3", True, "'answer is' with a negative fraction"),
    ("The answer is $\\frac{1}{3}$ cup.", "\\frac13", True, "'answer is' math span then a word"),
    ("Thus the answer is\n\n12", "12", True, "'answer is' then a blank line"),
    ("\\boxed{1/3}", "\\frac{1}{3}", True, "slash fraction"),
    ("\\boxed{\\sqrt{2}/2}", "\\frac{\\sqrt{2}}{2}", True, "slash fraction with a root"),
    ("\\boxed{\\tfrac{1}{4}}", "0.25", True, "tfrac"),
    ("\\boxed{1.5e3}", "1500", True, "scientific notation (plain)"),
    ("\\boxed{1.5 \\times 10^3}", "1500", True, "scientific notation (LaTeX)"),
    ("\\boxed{0.1 + 0.2}", "0.3", True, "arithmetic left in the box"),
    ("\\boxed{\\frac{10}{3}}", "3.33", False, "rounded to 3 significant digits is too far"),
    ("\\boxed{3.3333}", "\\frac{10}{3}", True, "rounded to 5 significant digits"),
    ("\\boxed{-0.5}", "\\frac{-1}{2}", True, "negative numerator"),
    ("\\boxed{\\$\\,1{,}000}", "1000", True, "thin space and {,} separator"),
    ("\\boxed{1\\,000}", "1000", True, "thin-space thousands separator"),
    ("\\boxed{5\\sqrt{2}}", "\\sqrt{50}", True, "radical, numerically"),
    ("\\boxed{2^{10}}", "1024", True, "power"),
    ("\\boxed{\\dfrac{\\pi}{4}}", "\\frac{\\pi}{4}", True, "pi fraction, dfrac"),
    ("\\boxed{45^\\circ}", "\\frac{\\pi}{4}", False, "degrees are not radians"),
    ("\\boxed{\\text{odd}}", "\\text{even}", False, "text answers"),
    ("\\boxed{\\textbf{(B)}}", "\\text{(B)}", True, "bold choice"),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=os.path.join(HERE, "..", "..", "shared", "data"))
    ap.add_argument("--out", default=os.path.join(HERE, "..", "tests", "fixtures", "answers", "cases.jsonl"))
    args = ap.parse_args()
    rng = random.Random(20250217)
    cases = gsm8k_cases(args.data, rng) + math_cases(args.data, rng)
    cases += [case(p, r, c, "synthetic", n) for p, r, c, n in SYNTHETIC]
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        for c in cases:
            f.write(json.dumps(c, ensure_ascii=False) + "\n")
    by_src = {}
    for c in cases:
        by_src[c["source"]] = by_src.get(c["source"], 0) + 1
    print(f"wrote {len(cases)} cases to {args.out}: {by_src}, "
          f"{sum(not c['correct'] for c in cases)} labelled incorrect")


if __name__ == "__main__":
    main()
