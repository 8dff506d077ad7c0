"""Golden values for the MMMU scorer: MMMU-Benchmark/MMMU eval_utils.py, data_utils.py and
main_parse_and_eval.py + main_eval_only.py logic restated verbatim (parse, verdict, aggregate), with the
module-level random.seed(42) that the official code runs on import.

Run: /usr/bin/python3 packages/eval/scripts/mmmu_reference.py > packages/eval/test/fixtures/mmmu-golden.json
"""
import json
import math
import random
import re

import numpy as np

random.seed(42)

DOMAIN_CAT2SUB_CAT = {
    'Art and Design': ['Art', 'Art_Theory', 'Design', 'Music'],
    'Business': ['Accounting', 'Economics', 'Finance', 'Manage', 'Marketing'],
    'Science': ['Biology', 'Chemistry', 'Geography', 'Math', 'Physics', ],
    'Health and Medicine': ['Basic_Medical_Science', 'Clinical_Medicine', 'Diagnostics_and_Laboratory_Medicine', 'Pharmacy', 'Public_Health'],
    'Humanities and Social Science': ['History', 'Literature', 'Sociology', 'Psychology'],
    'Tech and Engineering': ['Agriculture', 'Architecture_and_Engineering', 'Computer_Science', 'Electronics', 'Energy_and_Power', 'Materials', 'Mechanical_Engineering'],
}
CAT_SHORT2LONG = {
    'acc': 'Accounting', 'agri': 'Agriculture', 'arch': 'Architecture_and_Engineering', 'art': 'Art',
    'art_theory': 'Art_Theory', 'bas_med': 'Basic_Medical_Science', 'bio': 'Biology', 'chem': 'Chemistry',
    'cli_med': 'Clinical_Medicine', 'cs': 'Computer_Science', 'design': 'Design',
    'diag_med': 'Diagnostics_and_Laboratory_Medicine', 'econ': 'Economics', 'elec': 'Electronics',
    'ep': 'Energy_and_Power', 'fin': 'Finance', 'geo': 'Geography', 'his': 'History', 'liter': 'Literature',
    'manage': 'Manage', 'mark': 'Marketing', 'mate': 'Materials', 'math': 'Math',
    'mech': 'Mechanical_Engineering', 'music': 'Music', 'phar': 'Pharmacy', 'phys': 'Physics',
    'psy': 'Psychology', 'pub_health': 'Public_Health', 'socio': 'Sociology',
}


def get_multi_choice_info(options):
    start_chr = 'A'
    all_choices = []
    index2ans = {}
    for i, option in enumerate(options):
        index2ans[chr(ord(start_chr) + i)] = option
        all_choices.append(chr(ord(start_chr) + i))
    return index2ans, all_choices


def parse_multi_choice_response(response, all_choices, index2ans):
    for char in [',', '.', '!', '?', ';', ':', "'"]:
        response = response.strip(char)
    response = " " + response + " "
    index_ans = True
    ans_with_brack = False
    candidates = []
    for choice in all_choices:
        if f'({choice})' in response:
            candidates.append(choice)
            ans_with_brack = True
    if len(candidates) == 0:
        for choice in all_choices:
            if f' {choice} ' in response:
                candidates.append(choice)
    if len(candidates) == 0 and len(response.split()) > 5:
        for index, ans in index2ans.items():
            if ans.lower() in response.lower():
                candidates.append(index)
                index_ans = False
    if len(candidates) == 0:
        pred_index = random.choice(all_choices)
    elif len(candidates) > 1:
        start_indexes = []
        if index_ans:
            if ans_with_brack:
                for can in candidates:
                    index = response.rfind(f'({can})')
                    start_indexes.append(index)
            else:
                for can in candidates:
                    index = response.rfind(f" {can} ")
                    start_indexes.append(index)
        else:
            for can in candidates:
                index = response.lower().rfind(index2ans[can].lower())
                start_indexes.append(index)
        pred_index = candidates[np.argmax(start_indexes)]
    else:
        pred_index = candidates[0]
    return pred_index


def check_is_number(string):
    try:
        float(string.replace(',', ''))
        return True
    except ValueError:
        return False


def normalize_str(string):
    string = string.strip()
    is_number = check_is_number(string)
    if is_number:
        string = string.replace(',', '')
        string = float(string)
        string = round(string, 2)
        return [string]
    else:
        string = string.lower()
        if len(string) == 1:
            return [" " + string, string + " "]
        return [string]


def extract_numbers(string):
    pattern_commas = r'-?\b\d{1,3}(?:,\d{3})+\b'
    pattern_scientific = r'-?\d+(?:\.\d+)?[eE][+-]?\d+'
    pattern_simple = r'-?(?:\d+\.\d+|\.\d+|\d+\b)(?![eE][+-]?\d+)(?![,\d])'
    numbers_with_commas = re.findall(pattern_commas, string)
    numbers_scientific = re.findall(pattern_scientific, string)
    numbers_simple = re.findall(pattern_simple, string)
    all_numbers = numbers_with_commas + numbers_scientific + numbers_simple
    return all_numbers


def parse_open_response(response):
    def get_key_subresponses(response):
        key_responses = []
        response = response.strip().strip(".").lower()
        sub_responses = re.split(r'\.\s(?=[A-Z])|\n', response)
        indicators_of_keys = ['could be ', 'so ', 'is ', 'thus ', 'therefore ', 'final ', 'answer ', 'result ']
        key_responses = []
        for index, resp in enumerate(sub_responses):
            if index == len(sub_responses) - 1:
                indicators_of_keys.extend(['='])
            shortest_key_response = None
            for indicator in indicators_of_keys:
                if indicator in resp:
                    if not shortest_key_response:
                        shortest_key_response = resp.split(indicator)[-1].strip()
                    else:
                        if len(resp.split(indicator)[-1].strip()) < len(shortest_key_response):
                            shortest_key_response = resp.split(indicator)[-1].strip()
            if shortest_key_response:
                if shortest_key_response.strip() not in [":", ",", ".", "!", "?", ";", ":", "'"]:
                    key_responses.append(shortest_key_response)
        if len(key_responses) == 0:
            return [response]
        return key_responses
    key_responses = get_key_subresponses(response)
    pred_list = key_responses.copy()
    for resp in key_responses:
        pred_list.extend(extract_numbers(resp))
    tmp_pred_list = []
    for i in range(len(pred_list)):
        tmp_pred_list.extend(normalize_str(pred_list[i]))
    pred_list = tmp_pred_list
    pred_list = list(set(pred_list))
    return pred_list


def eval_multi_choice(gold_i, pred_i):
    correct = False
    if isinstance(gold_i, list):
        for answer in gold_i:
            if answer == pred_i:
                correct = True
                break
    else:
        if gold_i == pred_i:
            correct = True
    return correct


def eval_open(gold_i, pred_i):
    correct = False
    if isinstance(gold_i, list):
        norm_answers = []
        for answer in gold_i:
            norm_answers.extend(normalize_str(answer))
    else:
        norm_answers = normalize_str(gold_i)
    for pred in pred_i:
        if isinstance(pred, str):
            for norm_ans in norm_answers:
                if isinstance(norm_ans, str) and norm_ans in pred:
                    if not correct:
                        correct = True
                    break
        else:
            if pred in norm_answers:
                if not correct:
                    correct = True
                break
    return correct


def evaluate(samples):
    pred_correct = 0
    judge_dict = dict()
    for sample in samples:
        gold_i = sample['answer']
        pred_i = sample['parsed_pred']
        if sample['question_type'] == 'multiple-choice':
            correct = eval_multi_choice(gold_i, pred_i)
        else:
            correct = eval_open(gold_i, pred_i)
        if correct:
            judge_dict[sample['id']] = 'Correct'
            pred_correct += 1
        else:
            judge_dict[sample['id']] = 'Wrong'
    if len(samples) == 0:
        return {'acc': 0}
    return judge_dict, {'acc': pred_correct / len(samples)}


def calculate_ins_level_acc(results):
    acc = 0
    ins_num = 0
    for cat_results in results.values():
        acc += cat_results['acc'] * cat_results['num_example']
        ins_num += cat_results['num_example']
    if ins_num == 0:
        return 0
    return acc / ins_num


def enc(v):
    """A parsed value for JSON: floats by repr (NaN and inf are not JSON), strings as they are."""
    if isinstance(v, float):
        return {"f": repr(v)}
    return {"s": v}


def score_dataset(samples):
    """main_parse_and_eval.py per subject (ALL, CAT_SHORT2LONG order), then main_eval_only.py's aggregation."""
    by_cat = {}
    for s in samples:
        by_cat.setdefault("_".join(s["id"].split("_")[1:-1]), []).append(s)
    evaluation_result = {}
    picks = []
    for category in CAT_SHORT2LONG.values():
        if category not in by_cat:
            continue
        eval_samples = []
        for s in by_cat[category]:
            if s["question_type"] == "multiple-choice":
                index2ans, all_choices = get_multi_choice_info(s["options"])
                pred = parse_multi_choice_response(s["response"], all_choices, index2ans)
            else:
                pred = parse_open_response(s["response"])
            eval_samples.append({"id": s["id"], "question_type": s["question_type"], "answer": s["answer"], "parsed_pred": pred})
        judge_dict, metric_dict = evaluate(eval_samples)
        metric_dict.update({"num_example": len(eval_samples)})
        evaluation_result[category] = metric_dict
        for e in eval_samples:
            picks.append({"id": e["id"], "judge": judge_dict[e["id"]]})
    printable_results = {}
    for domain, in_domain_cats in DOMAIN_CAT2SUB_CAT.items():
        in_domain_cat_results = {}
        for cat_name in in_domain_cats:
            if cat_name in evaluation_result.keys():
                in_domain_cat_results[cat_name] = evaluation_result[cat_name]
        in_domain_ins_acc = calculate_ins_level_acc(in_domain_cat_results)
        in_domain_data_num = sum([cat_results['num_example'] for cat_results in in_domain_cat_results.values()])
        printable_results['Overall-' + domain] = {"num": int(in_domain_data_num), "acc": round(in_domain_ins_acc, 3)}
        for cat_name, cat_results in in_domain_cat_results.items():
            printable_results[cat_name] = {"num": int(cat_results['num_example']), "acc": round(cat_results['acc'], 3)}
    all_ins_acc = calculate_ins_level_acc(evaluation_result)
    printable_results['Overall'] = {"num": sum([cat_results['num_example'] for cat_results in evaluation_result.values()]),
                                    "acc": round(all_ins_acc, 3)}
    return {"judges": picks, "printable": printable_results, "overall_unrounded": all_ins_acc}


OPTIONS4 = ["a cat", "a dog", "two birds", "the red circle"]
MC_CASES = [
    "A", "B", "C", "D", "(A)", "(B) because", "The answer is (C).", "I think the answer is D.", "B.", "B,.", "B.,",
    "C!", "'D'", "A and B", "(A) or (B)", "(B) or (A)", "Answer: B", "answer: b", "b", "(b)", "", " ", "E",
    "The answer is E", "I believe it shows two birds in the picture", "It is a cat, not a dog, in the image here",
    "It is a dog, not a cat, in the image here", "The image shows the red circle clearly today",
    "the red circle", "a cat", "A cat sits on the mat today.", "Option A is wrong and so is B", "AB",
    "(A)(B)(C)", "A) the cat", "Answer:C", "The correct option is\nB\n", "The correct option is\tC\t",
    "Both (C) and (D) are fine, but (C) is best", "D. the red circle", "C: two birds",
    "I cannot tell from the image at all honestly", "Neither", "None of the above options match",
    "B B B A", "?A?", ";D;", ":A:", "!!C!!", "'B", "B'", "A dog and a cat are there both together",
    "two birds and a cat are there both together", "I pick A.", "I pick (D).", "a", "The answer: \\boxed{B}",
    "\u00a0B\u00a0", "It's (C)", "The answer is C because A is wrong", "Final answer: A", "A.B", "(a)", "x y z w v u",
    "Maybe a cat maybe a dog maybe two birds", "ABCD", "A,B", "A, B", "C;", "D?", "Not A but B",
    "The answer is B. Not A.", "Looking at the figure, the answer should be option C.",
]
OPEN_CASES = [
    "42", "The answer is 42.", "The answer is 42", "3.14159", "the result is 1,234,567", "x = 12.5",
    "So the total is $1,000.", "It is 5e3 units", "It could be -3.5 or 4", "Therefore, 0.333", "12 apples",
    "The final answer is Paris.", "paris", "The answer is B", "Thus the value is 7\nSo the answer is 8",
    "", "   ", ".", "The answer is .", "answer is :", "is 1,2,3", "The speed is 3.0 m/s", "1e-3", "-0.004",
    "The result is 2.675", "the value is 0.125", "It is 1.005", "The answer is inf", "The answer is nan",
    "answer = 10", "a = 5\nb = 6", "The mass is 10 kg. The volume is 2 m^3", "The answer is 1/2",
    "0.5", "The answer is 50%", "The result is 12,34", "So x is 1_000", "values 1,000 and 2,000,000",
    "So the answer is 3.", "Thus: 7", "So ", "The temperature is -40", "is is is 5", "final 9 result 10",
    "The angle is 30°", "The answer could be 25 or 26", "It is ٣", "Answer is 3.50", "therefore 1.995",
    "The answer is A", "So the answer is x", "the area is 12.0 square units. Thus 12", "Result 0.00",
    "7.", "The answer is 6.02e23", "1.2.3", "3,4", ".5 is the answer", "The answer is -.5",
]
OPEN_GOLDS = ["42", "1234567", "12.5", "1000", "5000", "-3.5", "0.33", "Paris", "b", "7", "8", "0.001",
              "2.68", "2.67", "0.12", "0.13", "1.0", "1.01", "10", "3", "-40", "30", "25", "3.5", "2.0",
              "6.02e23", "x", "12", "0", ".5", "1/2", "50%", "a"]


def main():
    rng_out = {}
    for seed in [42, 0, 1, 12345, 2 ** 40 + 7, -5, 2 ** 64 + 3]:
        r = random.Random(seed)
        rng_out[str(seed)] = {
            "u32": [r.getrandbits(32) for _ in range(8)],
            "random": [repr(r.random()) for _ in range(4)],
            "bits": [str(r.getrandbits(k)) for k in [1, 5, 31, 33, 64, 100]],
            "choices": [r.choice(list(range(n))) for n in [1, 2, 3, 4, 5, 7, 9, 10, 13, 2, 3, 4] * 3],
        }
    rng_out["after_700"] = (lambda r: ([r.getrandbits(32) for _ in range(700)], [r.getrandbits(32) for _ in range(5)])[1])(random.Random(42))

    index2ans, all_choices = get_multi_choice_info(OPTIONS4)
    mc = []
    for resp in MC_CASES:
        mc.append({"response": resp, "expected": parse_multi_choice_response(resp, all_choices, index2ans)})
    index2ans5, all_choices5 = get_multi_choice_info(["cat", "cat food", "dog", "", "fish"])
    for resp in ["I would say the cat food is best here", "Obviously the answer would be none here", "z"]:
        mc.append({"response": resp, "options": ["cat", "cat food", "dog", "", "fish"],
                   "expected": parse_multi_choice_response(resp, all_choices5, index2ans5)})

    numbers = [{"text": t.lower(), "expected": extract_numbers(t.lower())} for t in OPEN_CASES]
    numbers += [{"text": t, "expected": extract_numbers(t)} for t in ["a1,000b", "x-5y", "1,00", "12,345,678.9", "3e", "2E+5", "١٢٣ and 45", "_12_", "-1,234 and -.5"]]
    opens = []
    for resp in OPEN_CASES:
        parsed = parse_open_response(resp)
        opens.append({"response": resp, "expected": sorted([enc(v) for v in parsed], key=json.dumps)})
    norm = [{"text": t, "expected": [enc(v) for v in normalize_str(t)]} for t in
            ["42", " 1,234 ", "2.675", "0.125", "1.005", "-0.004", "A", "b", "Paris", "1_000", "inf", "-nan", "1e400", "", "1,2,3", " x ", "٣", "0.005", "0.015", "2.5e-3"]]
    verdicts = []
    for resp in OPEN_CASES:
        parsed = parse_open_response(resp)
        for gold in OPEN_GOLDS:
            verdicts.append({"response": resp, "gold": gold, "expected": eval_open(gold, parsed)})
    verdicts += [{"response": "The answer is 42", "gold": ["41", "42"], "expected": eval_open(["41", "42"], parse_open_response("The answer is 42"))},
                 {"response": "blue", "gold": ["red", "green"], "expected": eval_open(["red", "green"], parse_open_response("blue"))}]
    mc_verdicts = [{"gold": g, "pred": p, "expected": eval_multi_choice(g, p)} for g, p in
                   [("A", "A"), ("A", "B"), (["A", "C"], "C"), (["A", "C"], "B"), ("A", "a"), ("A", "A ")]]

    # a whole run: subjects out of order in the file, several random fallbacks, open and MC questions
    data_rng = random.Random(2024)
    subjects = ["Math", "Art", "Accounting", "Physics", "Computer_Science", "Music", "History", "Pharmacy"]
    dataset = []
    for i in range(120):
        subj = data_rng.choice(subjects)
        if data_rng.random() < 0.6:
            n_opt = data_rng.choice([2, 3, 4, 5, 7, 9])
            opts = [f"option text {k} {data_rng.choice(['red', 'blue', 'tall', 'short'])}" for k in range(n_opt)]
            ans = chr(65 + data_rng.randrange(n_opt))
            resp = data_rng.choice(MC_CASES + ["", "no idea", "I choose " + ans, "(" + ans + ")", "The answer is option text 1 red and that is it"])
            dataset.append({"id": f"validation_{subj}_{i}", "question_type": "multiple-choice", "options": opts, "answer": ans, "response": resp})
        else:
            gold = data_rng.choice(OPEN_GOLDS)
            resp = data_rng.choice(OPEN_CASES + ["The answer is " + gold, gold])
            dataset.append({"id": f"validation_{subj}_{i}", "question_type": "open", "options": [], "answer": gold, "response": resp})
    run = score_dataset(dataset)

    print(json.dumps({"rng": rng_out, "options": OPTIONS4, "multiChoice": mc, "numbers": numbers, "normalize": norm,
                      "open": opens, "openVerdicts": verdicts, "mcVerdicts": mc_verdicts,
                      "run": {"data": dataset, **run}}, ensure_ascii=False))


if __name__ == "__main__":
    main()
