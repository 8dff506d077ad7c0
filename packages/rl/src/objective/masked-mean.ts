import { type Dtype, type Round, rounding } from "./dtype.js";
import { checkMask, checkMatrix, type Matrix } from "./validate.js";

/**
 * Returns verl's masked-mean denominator Σmask + 1e-8. The mask is an integer tensor there
 * (`attention_mask`), and an integer tensor plus a Python float is a float32 tensor whatever the
 * values' dtype, so the sum is taken in float32 and the 1e-8 vanishes for any non-empty mask; an
 * empty mask leaves float32(1e-8), so the mean of nothing is 0 rather than NaN.
 */
export function maskedMeanDenominator(mask: Matrix): number {
  let count = 0;
  for (let i = 0; i < mask.length; i++) {
    const row = mask[i];
    for (let j = 0; j < row.length; j++) count += row[j];
  }
  return Math.fround(Math.fround(count) + Math.fround(1e-8));
}

/** Returns Σ(values·mask) / (Σmask + 1e-8) over every token at once, as verl's `masked_mean` with no `dim`. */
export function maskedMeanOf(
  values: Matrix,
  mask: Matrix,
  round: Round,
  denominator = maskedMeanDenominator(mask),
) {
  let s = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    const m = mask[i];
    // value·mask, not a skip: a NaN or ±Infinity under a 0 still makes the mean NaN, as in torch.
    for (let j = 0; j < v.length; j++) s += v[j] * m[j];
  }
  return round(round(s) / denominator);
}

/** Returns verl's `masked_mean(values, mask)`: one mean over all the micro-batch's unmasked tokens. */
export function maskedMean(values: Matrix, mask: Matrix, options: { dtype?: Dtype } = {}): number {
  const round = rounding("maskedMean", options.dtype);
  const cols = checkMatrix("maskedMean", "values", values);
  checkMask("maskedMean", "mask", mask, values.length, cols, "values");
  return maskedMeanOf(roundMatrix(values, round), mask, round);
}

/** Returns a copy of `m` with every value rounded, as `torch.tensor(m, dtype=…)` stores it. */
export function roundMatrix(m: Matrix, round: Round): number[][] {
  const out: number[][] = new Array(m.length);
  for (let i = 0; i < m.length; i++) {
    const row = m[i];
    const copy = new Array<number>(row.length);
    for (let j = 0; j < row.length; j++) copy[j] = round(row[j]);
    out[i] = copy;
  }
  return out;
}
