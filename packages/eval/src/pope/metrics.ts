import type { EvalMode } from "../common/mode.js";

/** The counts and scores evaluate.py prints for one split. */
export interface PopeMetrics {
  n: number;
  TP: number;
  FP: number;
  TN: number;
  FN: number;
  accuracy: number;
  precision: number;
  recall: number;
  f1: number;
  yesRatio: number;
  /** FP / (FP + TN): how often the model says an absent object is there (a hallucination rate). */
  falsePositiveRate: number;
}

/** x / y as Python's float division; y = 0 gives NaN (official: evaluate.py raises ZeroDivisionError) or 0 (robust). */
function divide(x: number, y: number, mode: EvalMode): number {
  if (y === 0) return mode === "robust" ? 0 : Number.NaN;
  return x / y;
}

/** POPE's metrics for parallel lists of predictions and labels (1 = yes, 0 = no), computed as evaluate.py does. */
export function popeMetrics(
  preds: readonly (0 | 1)[],
  labels: readonly (0 | 1)[],
  mode: EvalMode = "official",
): PopeMetrics {
  let TP = 0;
  let FP = 0;
  let TN = 0;
  let FN = 0;
  let yes = 0;
  const n = Math.min(preds.length, labels.length);
  for (let i = 0; i < preds.length; i++) if (preds[i] === 1) yes++;
  for (let i = 0; i < n; i++) {
    const p = preds[i];
    const l = labels[i];
    if (p === 1 && l === 1) TP++;
    else if (p === 1 && l === 0) FP++;
    else if (p === 0 && l === 0) TN++;
    else if (p === 0 && l === 1) FN++;
  }
  const precision = divide(TP, TP + FP, mode);
  const recall = divide(TP, TP + FN, mode);
  const f1 = divide(2 * precision * recall, precision + recall, mode);
  return {
    n,
    TP,
    FP,
    TN,
    FN,
    accuracy: divide(TP + TN, TP + TN + FP + FN, mode),
    precision,
    recall,
    f1,
    yesRatio: divide(yes, preds.length, mode),
    falsePositiveRate: divide(FP, FP + TN, mode),
  };
}

/** The mean of each score over splits (counts summed). */
export function averagePopeMetrics(splits: readonly PopeMetrics[]): PopeMetrics {
  const mean = (k: keyof PopeMetrics) => splits.reduce((s, m) => s + m[k], 0) / splits.length;
  const sum = (k: keyof PopeMetrics) => splits.reduce((s, m) => s + m[k], 0);
  return {
    n: sum("n"),
    TP: sum("TP"),
    FP: sum("FP"),
    TN: sum("TN"),
    FN: sum("FN"),
    accuracy: mean("accuracy"),
    precision: mean("precision"),
    recall: mean("recall"),
    f1: mean("f1"),
    yesRatio: mean("yesRatio"),
    falsePositiveRate: mean("falsePositiveRate"),
  };
}
