"""Golden values for @sr2se/hsr-ee from Vision-SR1's own reward code and MathRuler's grader.

Run with Debian's python3 (python3-sympy, python3-pylatexenc):

    /usr/bin/python3 scripts/vision_sr1_golden.py VISION_SR1 MATHRULER

VISION_SR1 and MATHRULER are the fetched sources of github:zli12321/Vision-SR1 and
github:hiyouga/MathRuler: a checkout or a bare git directory. The official files are copied to a
temporary directory and imported from there (they are not committed here):
`train_examples/reward_function/see_think_selfReward.py` (the reward of selfReward_config.yaml) and
`mathruler/grader.py` + `mathruler/math_normalize.py`. tqdm, which grader.py imports only for its
`evaluate` command-line helper, gets a do-nothing stand-in when it is not installed.

Writes test/fixtures/vision-sr1-golden.json. The gate metrics (AUROC, Brier) come from sklearn when
it imports; otherwise from the plain-Python references below (`mann_whitney_auroc`, `brier`), and
the fixture says which. ECE is not in sklearn: `ece_10_bins` below is the reference.
"""

import contextlib
import io
import json
import os
import random
import subprocess
import sys
import tempfile

FILES = {
    "vision_sr1": ["train_examples/reward_function/see_think_selfReward.py"],
    "mathruler": ["mathruler/grader.py", "mathruler/math_normalize.py"],
}


def read_source(root, rel):
    """Returns (text, commit) of `rel` in a checkout or a bare git directory."""
    if os.path.isfile(os.path.join(root, rel)):
        commit = subprocess.run(
            ["git", "-C", root, "rev-parse", "HEAD"], capture_output=True, text=True
        ).stdout.strip()
        with open(os.path.join(root, rel), encoding="utf-8") as f:
            return f.read(), commit or None
    commit = subprocess.run(
        ["git", "--git-dir", root, "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    text = subprocess.run(
        ["git", "--git-dir", root, "show", f"HEAD:{rel}"], capture_output=True, text=True, check=True
    ).stdout
    return text, commit


def load_official(vision_sr1_root, mathruler_root, tmp):
    commits = {}
    for name, root in (("vision_sr1", vision_sr1_root), ("mathruler", mathruler_root)):
        for rel in FILES[name]:
            text, commits[name] = read_source(root, rel)
            dest = os.path.join(tmp, "mathruler" if name == "mathruler" else "", os.path.basename(rel))
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            with open(dest, "w", encoding="utf-8") as f:
                f.write(text)
    open(os.path.join(tmp, "mathruler", "__init__.py"), "w").close()
    try:
        import tqdm  # noqa: F401
    except ImportError:
        with open(os.path.join(tmp, "tqdm.py"), "w") as f:
            f.write("def tqdm(iterable, **kwargs):\n    return iterable\n")
    sys.path.insert(0, tmp)
    import see_think_selfReward as reward
    from mathruler import grader, math_normalize

    return reward, grader, math_normalize, commits


# Answers as a model writes them inside \boxed{}, and ground truths. Every pair of the two lists
# (and each answer against itself) is graded.
ANSWERS = [
    "3", "3.0", "3.00000001", "03", "+3", "-3", "- 3", "three", "3 ", " 3", "3\n", "٣",
    "1,000", "1000", "1,000,000", "1 000", "1,00", "1,999.99999999", "1_000", "1e3", "2e",
    "0.5", ".5", "1/2", "\\frac{1}{2}", "\\frac12", "\\dfrac{1}{2}", "\\tfrac{1}{2}", "2/4", "\\frac{2}{4}",
    "1/3", "0.333333333333", "0.1+0.2", "0.3", "4/2", "7 3/4", "7+3/4", "31/4",
    "\\sqrt{2}", "\\sqrt2", "sqrt(2)", "2^{1/2}", "2**0.5", "\\sqrt{8}", "2\\sqrt{2}", "2sqrt(2)",
    "\\frac{\\sqrt{3}}{2}", "\\sqrt{3}/2", "\\pi", "pi", "3.14159", "2\\pi", "\\frac{\\pi}{2}",
    "x+1", "1+x", "2x", "x*2", "x(2)", "(x+1)2", "x^2+2x+1", "(x+1)^2", "(x+1)^{2}", "x^{2}", "x^2", "xy", "yx",
    "x=3", "k = 3", "abc=3",
    "\\text{yes}", "Yes", "yes", "YES", "yes.", "No", "no", "\\text{No}", "\\text{ no}", "None", "none",
    "A", "a", "(A)", "A.", "B", "\\text{B}", "\\textbf{B}", "\\mathrm{C}", "A and B", "A, B", "A or B",
    "50%", "50\\%", "50", "0.5%", "\\$5", "$5", "5 dollars", "5",
    "10 cm", "10cm", "10", "10 meters", "10 centimeters", "45^\\circ", "45^{\\circ}", "45 degrees", "45",
    "3 days", "today", "2 million", "2000000", "1.5 billion",
    "(1, 2)", "(1,2)", "[1, 2]", "(2, 1)", "(1, 2, 3)", "\\left( 1, 2 \\right)", "(-\\infty, 3]", "(-oo, 3]",
    "\\{1, 2\\}", "{1, 2}", "{5}", "1, 2", "2, 1",
    "", " ", "\\text{}", "\\boxed{3}", "{", "}", "\\sqrt", "\\frac", "\\frac1", "2^{10}", "1024", "2^10",
    "α", "π", "∞", "√2", "3×4", "12", "Ünïcödé", "ÜNÏCÖDÉ", "红色", "6 红色",
    "circle", "circles", "Circle", "red circle", "the red circle", "2 circles", "two",
]
GROUND_TRUTHS = [
    "3", "1000", "1/2", "0.5", "\\frac{1}{2}", "\\sqrt{2}", "\\pi", "x+1", "(x+1)^2", "yes", "No", "None",
    "A", "B", "50", "50%", "5", "10", "45", "2000000", "(1, 2)", "\\{1, 2\\}", "", "7 3/4", "31/4",
    "12", "1024", "Ünïcödé", "circle", "red circle", "3.0", "-3", "0.3", "1/3", "2\\sqrt{2}",
]

# Whole responses for the format and accuracy rewards.
RESPONSES = [
    "<description>A red circle.</description><think>One circle.</think>\\boxed{1}",
    "<description>A red circle.</description>\n<think>One circle.</think>\n\\boxed{1}\n",
    "  <description>A red circle.</description>  <think>One.</think>  \\boxed{1}  ",
    "< description >A red circle.< / description > < think >One.< /think >\\boxed{1}",
    "<Description>A red circle.</Description><think>One.</think>\\boxed{1}",
    "<description>A</description><think>B</think>\\boxed{1} trailing words",
    "<description>A</description><think>B</think>\\boxed{1} and \\boxed{2}",
    "<description>A</description><think>B</think>\\boxed{1}}",
    "<description>A</description><think>B</think>\\boxed{{1}",
    "<description>A</description><think>B</think>\\boxed{}",
    "<description>A</description><think>B</think>\\boxed{\\frac{1}{2}}",
    "<description>A</description><think>B</think>\\boxed{x < 3}",
    "<description>A</description><think>B</think>\\boxed{1 / 2}",
    "<description>A</description><think>B</think>\\boxed{and/or}",
    "<description>A</description><think>B</think>",
    "<description>A</description>\\boxed{1}",
    "<think>B</think>\\boxed{1}",
    "\\boxed{1}",
    "1",
    "",
    "<description></description><think></think>\\boxed{1}",
    "<description>A<think>B</think></description>\\boxed{1}",
    "<think>B</think><description>A</description>\\boxed{1}",
    "<description>A</description><think>B</think>\\boxed{1}<description>C</description><think>D</think>\\boxed{2}",
    "<description>A</description><think>B \\boxed{7}</think>\\boxed{1",
    "<description>A</description><think>B</think>\\boxed {1}",
    "<description>A</description><think>B</think>\\Boxed{1}",
    "<description>Ünïcödé 红色</description><think>…</think>\\boxed{红色}",
    "\ufeff<description>A</description><think>B</think>\\boxed{1}",
    "\x85<description>A</description><think>B</think>\\boxed{1}\x1c",
    "\u3000<description>A</description>\u2003<think>B</think>\u00a0\\boxed{1}\u2028",
    "<description>A</description><think>B</think>\\boxed{1}\r\n",
    "<description>A</description>\n\n<think>line one\nline two</think>\n\n\\boxed{\\text{yes}}",
    "<description>multi\nline</description><think>x</think>\\boxed{A}",
]
RESPONSE_TRUTHS = ["1", "yes", "\\frac{1}{2}", "A", "红色", "2", "None", "x<3", "1/2"]

# Description answers: what the text-only second pass writes (a <think> block and \boxed{}).
DESCRIPTION_ANSWERS = [
    "<think>The description says one circle.</think>\\boxed{1}",
    "<think>The description says one circle.</think>\\boxed{2}",
    "<description>A</description><think>B</think>\\boxed{1}",
    "\\boxed{1}",
    "I cannot tell.",
    "",
    "<think>x</think>\\boxed{1} extra",
    "< think >x< /think >\\boxed{1}",
]


def mann_whitney_auroc(scores, labels):
    """P(score of a positive > score of a negative) + 0.5 P(tie), over all pairs."""
    pos = [s for s, y in zip(scores, labels) if y]
    neg = [s for s, y in zip(scores, labels) if not y]
    wins = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


def ece_10_bins(confidences, labels):
    """Expected calibration error: 10 bins [0, .1), …, [.9, 1.0]; weighted |accuracy - confidence|."""
    bins = [[] for _ in range(10)]
    for c, y in zip(confidences, labels):
        bins[min(int(c * 10), 9)].append((c, y))
    total = 0.0
    for b in bins:
        if b:
            acc = sum(y for _, y in b) / len(b)
            conf = sum(c for c, _ in b) / len(b)
            total += len(b) / len(confidences) * abs(acc - conf)
    return total


def brier(confidences, labels):
    return sum((c - y) ** 2 for c, y in zip(confidences, labels)) / len(confidences)


def metric_cases():
    rng = random.Random(16)
    cases = [
        {"scores": [0.1, 0.4, 0.35, 0.8], "labels": [0, 0, 1, 1]},
        {"scores": [0.5, 0.5, 0.5, 0.5], "labels": [0, 1, 0, 1]},
        {"scores": [0.9, 0.8, 0.1, 0.2], "labels": [1, 1, 0, 0]},
        {"scores": [0.9, 0.8, 0.1, 0.2], "labels": [0, 0, 1, 1]},
        {"scores": [0.0, 1.0, 0.1, 0.1, 0.9, 0.95], "labels": [0, 1, 1, 0, 1, 0]},
        {"scores": [0.3, 0.3, 0.7, 0.7, 0.7, 1.0, 0.0], "labels": [1, 0, 1, 0, 1, 1, 0]},
    ]
    for n in (10, 37, 200):
        scores = [round(rng.random(), 2) for _ in range(n)]
        labels = [1 if rng.random() < 0.3 + 0.5 * s else 0 for s in scores]
        cases.append({"scores": scores, "labels": labels})
    try:
        from sklearn.metrics import brier_score_loss, roc_auc_score

        auroc, brier_fn, source = (lambda s, y: roc_auc_score(y, s)), (lambda s, y: brier_score_loss(y, s)), "sklearn"
    except ImportError:
        auroc, brier_fn, source = mann_whitney_auroc, brier, "plain-python"
    for case in cases:
        s, y = case["scores"], case["labels"]
        case["auroc"] = float(auroc(s, y))
        case["brier"] = float(brier_fn(s, y))
        case["ece"] = ece_10_bins(s, y)
    return cases, source


def dump_one_case_a_line(golden):
    """JSON with one case a line, so that a regenerated fixture diffs case by case."""
    compact = lambda v: json.dumps(v, ensure_ascii=False, separators=(",", ":"))
    parts = []
    for key, value in golden.items():
        if isinstance(value, list):
            body = ",\n".join("  " + compact(v) for v in value)
            parts.append(f"{compact(key)}:[\n{body}\n]")
        else:
            parts.append(f"{compact(key)}:{compact(value)}")
    return "{\n" + ",\n".join(parts) + "\n}\n"


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: vision_sr1_golden.py VISION_SR1 MATHRULER (checkouts or bare git directories)")
    with tempfile.TemporaryDirectory() as tmp:
        reward, grader, math_normalize, commits = load_official(sys.argv[1], sys.argv[2], tmp)
        import pylatexenc
        import sympy

        def quiet_score(*args, **kwargs):
            with contextlib.redirect_stdout(io.StringIO()):
                return reward.compute_score(*args, **kwargs)

        answers = list(dict.fromkeys(ANSWERS + GROUND_TRUTHS))
        texts = list(dict.fromkeys(RESPONSES + DESCRIPTION_ANSWERS + [f"\\boxed{{{a}}}" for a in ANSWERS]))
        texts += ["\\boxed{a{b}c}", "\\boxed{a}\\boxed{b}", "\\boxed{a} \\boxed{b", "x \\boxed{ 7 } y", "\\boxed{\\boxed{3}}"]
        pairs = [(a, a) for a in answers] + [(a, g) for g in GROUND_TRUTHS for a in ANSWERS if a != g]
        score_cases = []
        for i, predict in enumerate(RESPONSES):
            for gt in RESPONSE_TRUTHS:
                desc = DESCRIPTION_ANSWERS[(i + len(gt)) % len(DESCRIPTION_ANSWERS)]
                score_cases.append({"predict": predict, "ground_truth": gt, "description_answer": desc})
        for desc in DESCRIPTION_ANSWERS:
            score_cases.append({"predict": RESPONSES[0], "ground_truth": "1", "description_answer": desc})
        for w in (0.0, 0.25, 1.0):
            score_cases.append(
                {"predict": RESPONSES[0], "ground_truth": "1", "description_answer": DESCRIPTION_ANSWERS[0], "format_weight": w}
            )
        for case in score_cases:
            kwargs = {"format_weight": case["format_weight"]} if "format_weight" in case else {}
            [case["expected"]] = quiet_score(
                [case["predict"]], [case["ground_truth"]], ["How many circles?"], [case["description_answer"]], **kwargs
            )
        metrics, metrics_source = metric_cases()
        golden = {
            "generated_by": "packages/hsr-ee/scripts/vision_sr1_golden.py",
            "sources": {
                "vision_sr1": {"repo": "zli12321/Vision-SR1", "commit": commits["vision_sr1"], "files": FILES["vision_sr1"]},
                "mathruler": {"repo": "hiyouga/MathRuler", "commit": commits["mathruler"], "files": FILES["mathruler"]},
                "python": sys.version.split()[0],
                "sympy": sympy.__version__,
                "pylatexenc": pylatexenc.__version__,
                "metrics": metrics_source,
            },
            "extract_boxed_content": [{"text": t, "expected": grader.extract_boxed_content(t)} for t in texts],
            "normalize_answer": [{"input": a, "expected": math_normalize.normalize_answer(a)} for a in answers],
            "normalize": [{"input": a, "expected": grader._normalize(a)} for a in answers],
            "grade_answer": [{"given": a, "ground_truth": g, "expected": grader.grade_answer(a, g)} for a, g in pairs],
            "format_reward": [{"predict": t, "expected": reward.format_reward(t)} for t in texts],
            "description_format_reward": [{"predict": t, "expected": reward.description_format_reward(t)} for t in texts],
            "compute_score": score_cases,
            "metrics": metrics,
        }
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "vision-sr1-golden.json")
    with open(out, "w", encoding="utf-8") as f:
        f.write(dump_one_case_a_line(golden))
    print(f"wrote {os.path.normpath(out)}: {len(pairs)} graded pairs, {len(score_cases)} scored responses")


if __name__ == "__main__":
    main()
