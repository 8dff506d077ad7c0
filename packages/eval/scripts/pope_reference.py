"""Golden values for the POPE scorer, from RUCAIBox/POPE evaluate.py's logic restated verbatim.

Run: /usr/bin/python3 packages/eval/scripts/pope_reference.py > packages/eval/test/fixtures/pope-golden.json
"""
import json
import random


def official_parse(text):
    # evaluate.py, the loop over answers
    if text.find('.') != -1:
        text = text.split('.')[0]
    text = text.replace(',', '')
    words = text.split(' ')
    if 'No' in words or 'not' in words or 'no' in words:
        return 'no'
    return 'yes'


def official_metrics(answers, labels):
    # evaluate.py after parsing: labels 'no' -> 0 else 1; predictions 'no' -> 0 else 1
    label_list = [0 if l == 'no' else 1 for l in labels]
    pred_list = [0 if official_parse(a) == 'no' else 1 for a in answers]
    pos, neg = 1, 0
    yes_ratio = pred_list.count(1) / len(pred_list)
    TP, TN, FP, FN = 0, 0, 0, 0
    for pred, label in zip(pred_list, label_list):
        if pred == pos and label == pos:
            TP += 1
        elif pred == pos and label == neg:
            FP += 1
        elif pred == neg and label == neg:
            TN += 1
        elif pred == neg and label == pos:
            FN += 1
    out = {"TP": TP, "FP": FP, "TN": TN, "FN": FN, "yesRatio": yes_ratio}
    try:
        precision = float(TP) / float(TP + FP)
    except ZeroDivisionError:
        precision = None
    try:
        recall = float(TP) / float(TP + FN)
    except ZeroDivisionError:
        recall = None
    try:
        f1 = 2 * precision * recall / (precision + recall)
    except (ZeroDivisionError, TypeError):
        f1 = None
    acc = (TP + TN) / (TP + TN + FP + FN)
    out.update({"accuracy": acc, "precision": precision, "recall": recall, "f1": f1})
    return out


PARSE_CASES = [
    "Yes", "No", "yes", "no", "Yes.", "No.", "No, there is no dog.", "Yes, there is a dog in the image.",
    "There is no dog in the image.", "There is not a dog.", "NO", "Not at all.", "Nope", "no.", "No!",
    "No\nthere is not", "Yes\nno", "", " ", ".", "No.Yes", "Yes. No.", "Yes, no doubt.", "yes,no",
    "The answer is no", "I don't see one", "There isn't a cat.", "None", "no,", "No,", "  no  ",
    "no\tway", "Yes it is not visible.", "It is NOT there", "3.5 no", "no 3.5", "maybe", "Absolutely",
    "No, it's a cat.", "Yes. There is no dog.", "no.no", "No dog is present", "Not sure",
    "not", "No.", "There is a dog, not a cat.", "There's no dog", "no-one", "No;", "no?", "(no)",
    "\\boxed{no}", "The image shows a yes sign", "Yes, there are some.", "Yes,no", ",no,", "n o",
    "\u00a0no", "Definitely not.", "Unfortunately, no.", "Nope, not here.",
]


def main():
    rng = random.Random(7)
    parse = [{"text": t, "expected": official_parse(t)} for t in PARSE_CASES]
    aggregates = []
    for k in range(12):
        n = rng.randint(1, 40)
        answers = [rng.choice(PARSE_CASES) for _ in range(n)]
        labels = [rng.choice(["yes", "no"]) for _ in range(n)]
        aggregates.append({"answers": answers, "labels": labels, "expected": official_metrics(answers, labels)})
    # degenerate: no positive predictions (precision divides by zero in evaluate.py)
    aggregates.append({"answers": ["No", "no"], "labels": ["yes", "no"], "expected": official_metrics(["No", "no"], ["yes", "no"])})
    # labels other than 'no' count as yes
    aggregates.append({"answers": ["Yes", "No", "Yes"], "labels": ["Yes", "No", "no"], "expected": official_metrics(["Yes", "No", "Yes"], ["Yes", "No", "no"])})
    print(json.dumps({"parse": parse, "aggregates": aggregates}, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
