"""Golden values for @sr2se/eval's MM-Vet scorer.

Re-implements the behaviour of yuweihao/MM-Vet mm-vet_evaluator.py: the query layout, the grading
loop of runs() (first call at temperature 0, reply parsed as float of its first space-separated
token in [0, 1], retries with the "(digit)" suffix and +0.5 temperature, 0.0 after the fifth retry,
RateLimitError -> sleep and start the sample over with the current prompt and temperature), and
load_metadata + export_result (Counter, numpy arrays, std, numpy rounding). The GPT client is
replaced by a scripted one; time.sleep by a no-op. Writes test/fixtures/mmvet.json.

Run:  PYTHONHASHSEED=0 /usr/bin/python3 packages/eval/scripts/mmvet_reference.py   (needs numpy)

Known divergence of the TypeScript port (documented in the README): capability-set names join the
capabilities in Python set order (hash-seeded) here; the port uses the order of the first sample
listing that set, so the fixture also gives each set as a sorted list to compare by.
"""

import json
import os
import random
from collections import Counter

import numpy as np

OUT = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "mmvet.json")

PROMPT = """Compare the ground truth and prediction from AI models, to give a correctness score for the prediction. <AND> in the ground truth means it is totally right only when all elements in the ground truth are present in the prediction, and <OR> means it is totally right when any one element in the ground truth is present in the prediction. The correctness score is 0.0 (totally wrong), 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, or 1.0 (totally right). Just complete the last space of the correctness score.

Question | Ground truth | Prediction | Correctness
--- | --- | --- | ---
What is x in the equation? | -1 <AND> -5 | x = 3 | 0.0
What is x in the equation? | -1 <AND> -5 | x = -1 | 0.5
What is x in the equation? | -1 <AND> -5 | x = -5 | 0.5
What is x in the equation? | -1 <AND> -5 | x = -5 or 5 | 0.5
What is x in the equation? | -1 <AND> -5 | x = -1 or x = -5 | 1.0
Can you explain this meme? | This meme is poking fun at the fact that the names of the countries Iceland and Greenland are misleading. Despite its name, Iceland is known for its beautiful green landscapes, while Greenland is mostly covered in ice and snow. The meme is saying that the person has trust issues because the names of these countries do not accurately represent their landscapes. | The meme talks about Iceland and Greenland. It's pointing out that despite their names, Iceland is not very icy and Greenland isn't very green. | 0.4
Can you explain this meme? | This meme is poking fun at the fact that the names of the countries Iceland and Greenland are misleading. Despite its name, Iceland is known for its beautiful green landscapes, while Greenland is mostly covered in ice and snow. The meme is saying that the person has trust issues because the names of these countries do not accurately represent their landscapes. | The meme is using humor to point out the misleading nature of Iceland's and Greenland's names. Iceland, despite its name, has lush green landscapes while Greenland is mostly covered in ice and snow. The text 'This is why I have trust issues' is a playful way to suggest that these contradictions can lead to distrust or confusion. The humor in this meme is derived from the unexpected contrast between the names of the countries and their actual physical characteristics. | 1.0
"""


class RateLimitError(Exception):
    pass


class ScriptedClient:
    """Replies from a script ("1.0" once it runs out); "RATE_LIMIT" raises RateLimitError.
    Logs (retry?, temperature) of each call."""

    def __init__(self, replies):
        self.replies = list(replies)
        self.calls = []

    def create(self, model, max_tokens, temperature, messages):
        content = messages[0]["content"]
        self.calls.append({"retry": content.endswith("\nPredict the correctness of the answer (digit): "),
                           "temperature": temperature})
        reply = self.replies.pop(0) if self.replies else "1.0"  # past the script: "1.0"
        if reply == "RATE_LIMIT":
            raise RateLimitError()
        return {"model": "gpt-4-0613", "content": reply}


def query(line, model_pred, retry=False):
    q = PROMPT + "\n" + " | ".join([line["question"],
                                    line["answer"].replace("<AND>", " <AND> ").replace("<OR>", " <OR> "),
                                    model_pred, ""])
    return q + "\nPredict the correctness of the answer (digit): " if retry else q


def grade(line, model_pred, client):
    """The body of runs() for one sample and one run."""
    messages = [{"role": "user", "content": query(line, model_pred)}]
    grade_sample_run_complete = False
    temperature = 0.0
    while not grade_sample_run_complete:
        try:
            response = client.create(model="gpt-4-0613", max_tokens=3, temperature=temperature, messages=messages)
            content = response["content"]
            flag = True
            try_time = 1
            while flag:
                try:
                    content = content.split(" ")[0].strip()
                    score = float(content)
                    if score > 1.0 or score < 0.0:
                        assert False
                    flag = False
                except Exception:
                    messages = [{"role": "user", "content": query(line, model_pred, retry=True)}]
                    response = client.create(model="gpt-4-0613", max_tokens=3, temperature=temperature, messages=messages)
                    content = response["content"]
                    try_time += 1
                    temperature += 0.5
                    if try_time > 5:
                        score = 0.0
                        flag = False
            grade_sample_run_complete = True
        except RateLimitError:
            pass  # the official script sleeps 30 s here
    return {"score": score, "content": content, "model": response["model"]}


def export(data, grade_results, num_run, decimal_places=1):
    """load_metadata + export_result, with numpy, for the whole data set."""
    counter = Counter()
    cap_set_list, cap_set_counter = [], []
    for _id, value in data.items():
        cap = set(value["capability"])
        counter.update(cap)
        if cap not in cap_set_list:
            cap_set_list.append(cap)
            cap_set_counter.append(1)
        else:
            cap_set_counter[cap_set_list.index(cap)] += 1
    len_data = len(data)
    columns = [k for k, v in counter.most_common()] + ["total", "std", "runs"]
    order = np.argsort(-np.array(cap_set_counter), kind="stable")
    cap_set_list = [cap_set_list[i] for i in order]
    cap_set_counter = [cap_set_counter[i] for i in order]
    cap_set_names = ["_".join(list(s)) for s in cap_set_list]
    columns2 = cap_set_names + ["total", "std", "runs"]

    cap_socres = {k: [0.0] * num_run for k in columns[:-2]}
    counter["total"] = len_data
    cap_socres2 = {k: [0.0] * num_run for k in columns2[:-2]}
    counter2 = {columns2[i]: cap_set_counter[i] for i in range(len(cap_set_counter))}
    counter2["total"] = len_data
    for k, v in grade_results.items():
        for i in range(num_run):
            score = v["score"][i]
            caps = set(data[k]["capability"])
            for c in caps:
                cap_socres[c][i] += score
            cap_socres["total"][i] += score
            index = cap_set_list.index(caps)
            cap_socres2[cap_set_names[index]][i] += score
            cap_socres2["total"][i] += score
    for k, v in cap_socres.items():
        cap_socres[k] = np.array(v) / counter[k] * 100
    std = round(cap_socres["total"].std(), decimal_places)
    total_copy = cap_socres["total"].copy()
    runs = str([float(x) for x in np.round(total_copy, decimal_places)])
    per_run = {k: [float(x) for x in v] for k, v in cap_socres.items()}
    for k, v in cap_socres.items():
        cap_socres[k] = round(v.mean(), decimal_places)
    for k, v in cap_socres2.items():
        cap_socres2[k] = round(np.mean(np.array(v) / counter2[k] * 100), decimal_places)
    sets = {name: sorted(s) for name, s in zip(cap_set_names, cap_set_list)}
    return {
        "columns": columns[:-3],
        "caps": {k: float(v) for k, v in cap_socres.items()},
        "per_run": per_run,
        "set_columns": [sets[n] for n in cap_set_names],
        "sets": [{"caps": sets[k], "score": float(v)} for k, v in cap_socres2.items() if k != "total"],
        "set_total": float(cap_socres2["total"]),
        "std": float(std),
        "runs": runs,
    }


def main():
    out = {"prompt_sha_hint": len(PROMPT), "queries": [], "grading": [], "aggregate": [], "numpy": []}
    samples = [
        {"question": "What is x in the equation?", "answer": "-1<AND>-5", "pred": "x = -1"},
        {"question": "How many?", "answer": "3<OR>three", "pred": "There are three."},
        {"question": "Which | one?", "answer": "a <AND> b<OR>c", "pred": ""},
        {"question": "Explain.", "answer": "Long\nanswer", "pred": "multi\nline | pred"},
    ]
    for s in samples:
        out["queries"].append({**s, "first": query(s, s["pred"]), "retry": query(s, s["pred"], True)})

    scripts = [
        ["0.5"], ["1.0"], ["0.0"], ["1"], ["0"], ["0.7 because"], ["0.7\n"], [" 0.7"], ["\n0.4"],
        ["1.5", "0.5"], ["-0.1", "0.3"], ["Correctness: 0.6", "0.6"], ["nan"], ["NaN"], ["inf", "1.0"],
        ["1e-1"], ["0.5.", "0.5"], ["", "0.2"], [None, "0.8"], ["x", "y", "z", "w", "v", "0.9"],
        ["x", "y", "z", "w", "0.9"], ["x", "y", "z", "w", "v", "u"], ["RATE_LIMIT", "0.3"],
        ["x", "RATE_LIMIT", "0.6"], ["x", "y", "RATE_LIMIT", "z", "0.1"], ["RATE_LIMIT", "RATE_LIMIT", "bad", "1.0"],
        ["0_5"], ["\u0660.\u0665"], ["0.25 0.5"], ["1.00000000000000001"], ["+0.5"], ["-0.0"], ["0.5\u00a0"],
        ["x", "y", "z", "w", "v", None],
    ]
    line = samples[0]
    for script in scripts:
        client = ScriptedClient(script)
        result = grade(line, line["pred"], client)
        score = result["score"]
        out["grading"].append({
            "replies": script,
            "score": None if score != score else score,
            "nan": score != score,
            "content": result["content"],
            "calls": client.calls,
        })

    rng = random.Random(7)
    caps_pool = ["rec", "ocr", "know", "gen", "spat", "math"]
    for trial, (n, num_run) in enumerate([(40, 5), (25, 1), (60, 3), (13, 8), (30, 10)]):
        data, grades = {}, {}
        for i in range(n):
            caps = rng.sample(caps_pool, rng.randrange(1, 4))
            data[f"v1_{i}"] = {"question": "q", "answer": "a", "capability": caps}
            grades[f"v1_{i}"] = {"score": [rng.choice([0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0])
                                           for _ in range(num_run)]}
        out["aggregate"].append({"data": data, "grades": grades, "runs": num_run, "expected": export(data, grades, num_run)})

    for n in [1, 2, 5, 7, 8, 9, 16, 17, 100, 128, 129, 300, 1000]:
        a = [rng.uniform(0, 100) for _ in range(n)]
        arr = np.array(a)
        out["numpy"].append({"a": a, "sum": float(arr.sum()), "mean": float(arr.mean()), "std": float(arr.std()),
                             "round1": [float(round(np.float64(x), 1)) for x in a[:20]]})
    ties = [0.15, 0.25, 0.35, 2.675, 1.005, 0.05, 12.25, 53.35, 99.95, 0.45, 66.65]
    out["numpy_round_ties"] = [{"x": x, "np1": float(round(np.float64(x), 1)), "np2": float(round(np.float64(x), 2)),
                                "py1": round(x, 1)} for x in ties]

    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"wrote {OUT}: {len(out['queries'])} queries, {len(out['grading'])} gradings, "
          f"{len(out['aggregate'])} aggregates, {len(out['numpy'])} numpy")


if __name__ == "__main__":
    main()
