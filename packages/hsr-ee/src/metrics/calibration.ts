import { checkPairs } from "./check.js";

/**
 * Expected calibration error: confidences put in `bins` equal-width bins ([0, 1/bins), …, the last
 * one closed at 1), then Σ (bin size / n)·|accuracy of the bin − mean confidence of the bin|.
 */
export function expectedCalibrationError(
  confidences: readonly number[],
  correct: readonly boolean[],
  bins = 10,
): number {
  checkPairs("expectedCalibrationError", confidences, correct, [0, 1]);
  if (!Number.isInteger(bins) || bins < 1) {
    throw new RangeError(`expectedCalibrationError: bins must be a positive integer, got ${bins}`);
  }
  const count = new Array<number>(bins).fill(0);
  const hits = new Array<number>(bins).fill(0);
  const confidence = new Array<number>(bins).fill(0);
  confidences.forEach((c, i) => {
    const b = Math.min(Math.floor(c * bins), bins - 1);
    count[b]++;
    confidence[b] += c;
    if (correct[i]) hits[b]++;
  });
  let ece = 0;
  for (let b = 0; b < bins; b++) {
    if (count[b] > 0)
      ece += (count[b] / confidences.length) * Math.abs(hits[b] / count[b] - confidence[b] / count[b]);
  }
  return ece;
}

/** Brier score: the mean of (confidence − 1[correct])². */
export function brierScore(confidences: readonly number[], correct: readonly boolean[]): number {
  checkPairs("brierScore", confidences, correct, [0, 1]);
  let sum = 0;
  confidences.forEach((c, i) => {
    sum += (c - (correct[i] ? 1 : 0)) ** 2;
  });
  return sum / confidences.length;
}
