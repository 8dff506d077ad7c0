import { checkValues, type Values } from "./batch.js";

/**
 * Returns SR-DPO pair weights from a per-pair gap (e.g. the self-reward of the corrected answer
 * minus that of the hallucinated one): w_i = N·softmax(gap/τ)_i, so the weights average 1, keep
 * the loss on its usual scale, and a larger gap (a harder correction) counts more. τ → ∞ gives 1s.
 */
export function weightsFromRewardGap(gaps: Values, options: { temperature?: number } = {}): Float64Array {
  const fn = "weightsFromRewardGap";
  const tau = options.temperature ?? 1;
  if (!(Number.isFinite(tau) && tau > 0)) {
    throw new RangeError(`${fn}: options.temperature is ${tau}; it must be a finite number > 0`);
  }
  const n = gaps?.length ?? 0;
  if (n === 0) throw new RangeError(`${fn}: gaps is empty`);
  checkValues(fn, "gaps", gaps, n);
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < n; i++) max = Math.max(max, gaps[i] / tau);
  const w = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    w[i] = Math.exp(gaps[i] / tau - max);
    sum += w[i];
  }
  for (let i = 0; i < n; i++) w[i] = (n * w[i]) / sum;
  return w;
}
