"""Golden values for @sr2se/eval's MathVista scorer.

Re-implements, line for line in behaviour, the functions of lupantech/MathVista
evaluation/extract_answer.py (rule branches of extract_answer) and evaluation/calculate_score.py
(get_most_similar, normalize_extracted_answer, safe_equal, the pandas breakdown), then runs them on
the cases below under real CPython, python-Levenshtein and pandas, and writes
test/fixtures/mathvista.json. The TypeScript tests replay every case.

Run:  PYTHONHASHSEED=0 /usr/bin/python3 packages/eval/scripts/mathvista_reference.py
Needs: python3-levenshtein, python3-pandas (Debian).

Differences kept on purpose (documented in the README): for free-form "text" answers the newest
official normalize_extracted_answer raises UnboundLocalError; this reference (and the scorer) return
the extraction unchanged, as the older official version did.
"""

import json
import math
import os
import random
import re
import struct

import pandas as pd
from Levenshtein import distance

OUT = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "mathvista.json")


# ---- extract_answer.py, rule branches (the GPT call replaced by a failing extractor -> "") ----
def extract_answer(response, problem, quick_extract=False):
    question_type = problem["question_type"]
    answer_type = problem["answer_type"]
    choices = problem["choices"]
    if response == "":
        return ""
    if question_type == "multi_choice" and response in choices:
        return response
    if answer_type == "integer":
        try:
            return str(int(response))
        except Exception:
            pass
    if answer_type == "float":
        try:
            return str(float(response))
        except Exception:
            pass
    if quick_extract:
        try:
            found = re.search(r'The answer is "(.*)"\.', response)
            if found:
                return found.group(1)
        except Exception:
            pass
    # general extraction: no LLM here; the official script returns "" when the call fails
    return ""


# ---- calculate_score.py ----
def get_most_similar(prediction, choices):
    distances = [distance(prediction, choice) for choice in choices]
    return choices[distances.index(min(distances))]


def normalize_extracted_answer(extraction, choices, question_type, answer_type, precision, ignore_empty_extractions=False):
    if question_type == "multi_choice":
        if isinstance(extraction, str):
            extraction = extraction.strip()
        else:
            try:
                extraction = str(extraction)
            except Exception:
                extraction = ""
        if ignore_empty_extractions and not extraction:
            return None
        letter = re.findall(r"\(([a-zA-Z])\)", extraction)
        if len(letter) > 0:
            extraction = letter[0].upper()
        letters = [chr(ord("A") + i) for i in range(len(choices))]
        if extraction in letters:
            normalized = choices[letters.index(extraction)]
        else:
            normalized = get_most_similar(extraction, choices)
        assert normalized in choices
        return normalized
    if answer_type == "integer":
        try:
            return str(int(float(extraction)))
        except Exception:
            return None
    if answer_type == "float":
        try:
            return str(round(float(extraction), int(precision)))
        except Exception:
            return None
    if answer_type == "list":
        try:
            return str(extraction)
        except Exception:
            return None
    return extraction  # older official behaviour (the newest raises UnboundLocalError)


def safe_equal(prediction, answer):
    try:
        return prediction == answer
    except Exception:
        return False


def get_acc_with_contion(res_pd, key, value):
    if key == "skills":
        total_pd = res_pd[res_pd[key].apply(lambda x: value in x)]
    else:
        total_pd = res_pd[res_pd[key] == value]
    correct_pd = total_pd[total_pd["true_false"] == True]  # noqa: E712 (as the official code)
    return len(correct_pd), len(total_pd), len(correct_pd) / len(total_pd)


def calculate_scores(results):
    pids = list(results.keys())
    correct = sum(1 for pid in pids if results[pid]["true_false"])
    scores = {"average": {"accuracy": correct / len(pids), "correct": correct, "total": len(pids)}}
    for pid in results:
        results[pid].update(results[pid].pop("metadata"))
    df = pd.DataFrame(results).T
    keys = ["question_type", "answer_type", "language", "source", "category", "task", "context", "grade", "skills"]
    for key in keys:
        if key == "skills":
            values = []
            for i in range(len(df)):
                values += df[key][i]
            values = list(set(values))
        else:
            values = df[key].unique()
        scores[key] = {}
        for value in values:
            c, t, acc = get_acc_with_contion(df, key, value)
            if t > 0:
                scores[key][value] = {"accuracy": acc, "correct": c, "total": t}
        scores[key] = dict(sorted(scores[key].items(), key=lambda item: float(item[1]["accuracy"]), reverse=True))
    return scores


# ---- cases ----
MC = ["3/11", "8/11", "6/11", "3/5"]
P_INT = {"question_type": "free_form", "answer_type": "integer", "choices": None}
P_FLOAT = {"question_type": "free_form", "answer_type": "float", "choices": None}
P_LIST = {"question_type": "free_form", "answer_type": "list", "choices": None}
P_MC = {"question_type": "multi_choice", "answer_type": "text", "choices": MC}

extract_cases = [
    ("", P_INT, False), ("8/11", P_MC, False), ("8/11 ", P_MC, False), ("42", P_INT, False),
    (" 42 ", P_INT, False), ("4_2", P_INT, False), ("\u0664\u0662", P_INT, False), ("+7", P_INT, False),
    ("-0", P_INT, False), ("007", P_INT, False), ("3.0", P_INT, False), ("4__2", P_INT, False),
    ("\uff11\uff12", P_INT, False), ("1.50", P_FLOAT, False), ("1e3", P_FLOAT, False), ("nan", P_FLOAT, False),
    ("-Infinity", P_FLOAT, False), (" .5\n", P_FLOAT, False), ("1_000.25", P_FLOAT, False), ("5.", P_FLOAT, False),
    ("1e400", P_FLOAT, False), ("0.1e-5", P_FLOAT, False), ("12", P_FLOAT, False), ("1_.5", P_FLOAT, False),
    ("\u00a03.25\u2003", P_FLOAT, False), ("\ufeff3.25", P_FLOAT, False), ("0x10", P_FLOAT, False),
    ('The answer is "B".', P_MC, True), ('The answer is "B".', P_MC, False),
    ('The answer is "x". Then "y".', P_INT, True), ('The answer is "a\nb".', P_INT, True),
    ('The answer is "a\rb".', P_INT, True), ("The answer is 5", P_INT, True), ("[1, 2]", P_LIST, True),
]

normalize_cases = [
    # (extraction, choices, question_type, answer_type, precision, ignore_empty)
    ("(b) 8/11", MC, "multi_choice", "text", None, False), ("B", MC, "multi_choice", "text", None, False),
    ("b", MC, "multi_choice", "text", None, False), ("E", MC, "multi_choice", "text", None, False),
    ("", MC, "multi_choice", "text", None, False), ("", MC, "multi_choice", "text", None, True),
    (None, MC, "multi_choice", "text", None, False), ("  C \n", MC, "multi_choice", "text", None, False),
    ("(A) or (B)", MC, "multi_choice", "text", None, False), ("The answer is (d)", MC, "multi_choice", "text", None, False),
    ("6/12", MC, "multi_choice", "text", None, False), ("3/1", MC, "multi_choice", "text", None, False),
    ("(AB)", MC, "multi_choice", "text", None, False), ("grün", ["grau", "grün", "rot"], "multi_choice", "text", None, False),
    ("\U0001F600x", ["\U0001F600", "xx"], "multi_choice", "text", None, False),
    ("3.7", None, "free_form", "integer", None, False), ("-3.7", None, "free_form", "integer", None, False),
    ("1e20", None, "free_form", "integer", None, False), ("inf", None, "free_form", "integer", None, False),
    ("nan", None, "free_form", "integer", None, False), ("abc", None, "free_form", "integer", None, False),
    ("2.9999999999999999", None, "free_form", "integer", None, False), ("-0.5", None, "free_form", "integer", None, False),
    ("1.7976931348623157e308", None, "free_form", "integer", None, False), (None, None, "free_form", "integer", None, False),
    ("2.675", None, "free_form", "float", 2.0, False), ("0.125", None, "free_form", "float", 2.0, False),
    ("0.375", None, "free_form", "float", 2.0, False), ("-0.04", None, "free_form", "float", 1.0, False),
    ("1e16", None, "free_form", "float", 1.0, False), ("1e15", None, "free_form", "float", 1.0, False),
    ("0.00001", None, "free_form", "float", 5.0, False), ("0.0001", None, "free_form", "float", 4.0, False),
    ("123456789012345678", None, "free_form", "float", 0, False), ("1.2", None, "free_form", "float", "2", False),
    ("1.2", None, "free_form", "float", None, False), ("1.005", None, "free_form", "float", 2.0, False),
    ("3", None, "free_form", "float", 1.0, False), ("1.25", None, "free_form", "float", 1.0, False),
    ("1.35", None, "free_form", "float", 1.0, False), ("inf", None, "free_form", "float", 2.0, False),
    ("0.1", None, "free_form", "float", 400, False), ("12345.678", None, "free_form", "float", -2, False),
    ("5e-324", None, "free_form", "float", 330.0, False), ("1.7976931348623157e308", None, "free_form", "float", -308, False),
    ("2.5", None, "free_form", "float", 0, False), ("3.5", None, "free_form", "float", 0.9, False),
    ("1.23456789e-7", None, "free_form", "float", 10, False), ("9.995", None, "free_form", "float", 2, False),
    ("[1, 2]", None, "free_form", "list", None, False), (None, None, "free_form", "list", None, False),
    ("Paris", None, "free_form", "text", None, False),
]

equal_cases = [("1.5", "1.5"), ("1.5", 1.5), (None, None), (None, "1"), ("3", 3), ("a", "a "), ("[1, 2]", "[1, 2]")]


def float_hex(x):
    return struct.pack(">d", x).hex()


def python_number_cases():
    rng = random.Random(8)
    strings = []
    for _ in range(150):
        kind = rng.randrange(5)
        if kind == 0:
            x = rng.uniform(-1000, 1000)
        elif kind == 1:
            x = rng.uniform(0, 1) * 10 ** rng.randrange(-30, 30)
        elif kind == 2:
            x = struct.unpack(">d", struct.pack(">Q", rng.getrandbits(64)))[0]
        elif kind == 3:
            x = rng.randrange(0, 100000) / 1000 + 0.0005
        else:
            x = rng.randrange(-1000, 1000) / 8
        if math.isnan(x):
            x = 0.5
        strings.append(repr(x))
    rows = []
    for s in strings:
        x = float(s)
        row = {"hex": float_hex(x), "repr": str(x), "round": {}}
        for nd in (0, 1, 2, 3, 5, -1, -3):
            try:
                row["round"][str(nd)] = str(round(x, nd))
            except OverflowError:
                row["round"][str(nd)] = None
        row["fixed2"] = f"{x:.2f}" if math.isfinite(x) else None
        try:
            row["int"] = str(int(x))
        except (OverflowError, ValueError):
            row["int"] = None
        rows.append(row)
    return rows


def main():
    out = {"extract": [], "normalize": [], "equal": [], "numbers": python_number_cases()}
    for response, problem, quick in extract_cases:
        out["extract"].append({"response": response, "problem": problem, "quick": quick,
                               "expected": extract_answer(response, problem, quick)})
    for extraction, choices, qt, at, precision, ignore in normalize_cases:
        out["normalize"].append({
            "extraction": extraction, "choices": choices, "question_type": qt, "answer_type": at,
            "precision": precision, "ignore_empty": ignore,
            "expected": normalize_extracted_answer(extraction, choices, qt, at, precision, ignore),
        })
    for prediction, answer in equal_cases:
        out["equal"].append({"prediction": prediction, "answer": answer, "expected": safe_equal(prediction, answer)})

    # an end-to-end set: problems, responses, extractions, verdicts and the full scores.json
    rng = random.Random(2024)
    tasks = ["figure question answering", "math word problem", "geometry problem solving", "textbook question answering"]
    skill_pool = ["arithmetic reasoning", "statistical reasoning", "algebraic reasoning", "geometry reasoning", "numeric commonsense"]
    problems, responses = {}, {}
    for i in range(60):
        pid = str(i + 1)
        kind = rng.choice(["mc", "int", "float", "list"])
        meta = {"language": rng.choice(["english", "chinese"]), "source": rng.choice(["ChartQA", "GeoQA+", "IQTest"]),
                "category": rng.choice(["math-targeted-vqa", "general-vqa"]), "task": rng.choice(tasks),
                "context": rng.choice(["bar chart", "geometry diagram", "table"]),
                "grade": rng.choice(["elementary school", "high school", "college"]),
                "skills": rng.sample(skill_pool, rng.randrange(1, 4))}
        if kind == "mc":
            choices = rng.sample(["3", "5", "7", "9", "red", "blue", "a cube", "a sphere"], rng.randrange(2, 6))
            answer = rng.choice(choices)
            letter = chr(65 + choices.index(answer))
            resp = rng.choice([answer, letter, f"({letter.lower()}) {answer}", "", "I think (z)", choices[0], "blue cubes",
                               f'The answer is "{letter}".'])
            p = {"question_type": "multi_choice", "answer_type": "text", "choices": choices, "precision": None, "answer": answer}
        elif kind == "int":
            answer = str(rng.randrange(-20, 100))
            resp = rng.choice([answer, f" {answer} ", answer + ".0", answer + ".9", "-" + answer, "12", "", f'The answer is "{answer}".'])
            p = {"question_type": "free_form", "answer_type": "integer", "choices": None, "precision": None, "answer": answer}
        elif kind == "float":
            prec = rng.choice([1.0, 2.0, 3.0])
            value = round(rng.uniform(0, 10), int(prec))
            answer = str(value)
            resp = rng.choice([answer, repr(value + 0.004), repr(value + 0.0005), f"{value:.5f}", "nan", "about 3", ""])
            p = {"question_type": "free_form", "answer_type": "float", "choices": None, "precision": prec, "answer": answer}
        else:
            answer = "[2007, 2008]"
            resp = rng.choice([answer, "[2007,2008]", ""])
            p = {"question_type": "free_form", "answer_type": "list", "choices": None, "precision": None, "answer": answer}
        p.update({"pid": pid, "question": f"Question {pid}?", "query": f"Hint: ...\nQuestion: Question {pid}?", "metadata": meta})
        problems[pid] = p
        responses[pid] = resp
    quick = True
    results = {}
    for pid, p in problems.items():
        r = dict(p)
        r["metadata"] = dict(p["metadata"])
        r["response"] = responses[pid]
        r["extraction"] = extract_answer(responses[pid], p, quick)
        r["prediction"] = normalize_extracted_answer(r["extraction"], p["choices"], p["question_type"], p["answer_type"], p["precision"])
        r["true_false"] = safe_equal(r["prediction"], p["answer"])
        results[pid] = r
    verdicts = {pid: {"extraction": r["extraction"], "prediction": r["prediction"], "true_false": r["true_false"]} for pid, r in results.items()}
    scores = calculate_scores(results)
    out["dataset"] = {"problems": problems, "responses": responses, "quick": quick, "verdicts": verdicts, "scores": scores}

    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"wrote {OUT}: {len(out['extract'])} extract, {len(out['normalize'])} normalize, "
          f"{len(out['equal'])} equal, {len(out['numbers'])} numbers, {len(problems)} problems")


if __name__ == "__main__":
    main()
