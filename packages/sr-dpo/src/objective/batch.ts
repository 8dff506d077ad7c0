/** A number array, a Float64Array or a Float32Array: one value a pair. */
export type Values = ArrayLike<number>;

/**
 * Log-probabilities of a batch of preference pairs, one entry a pair. `policy*` and `reference*` are
 * log-probabilities summed over the completion tokens (prompt tokens masked), as TRL's `chosen_logps`.
 */
export interface PreferenceBatch {
  policyChosen: Values;
  policyRejected: Values;
  /** Required unless `referenceFree`; without it the rewards are measured from 0. */
  referenceChosen?: Values;
  referenceRejected?: Values;
  /** Completion token counts: needed by the NLL term (`alpha`, `sft`) and by per-token averaging (`ipo`). */
  chosenLengths?: Values;
  rejectedLengths?: Values;
  /** SR-DPO: a non-negative weight a pair multiplying its preference loss (see `weightsFromRewardGap`). */
  weights?: Values;
}

/** Throws unless `values` holds `n` finite numbers; the error names the field and the index. */
export function checkValues(
  fn: string,
  field: string,
  values: Values,
  n: number,
  rule?: (v: number) => string | undefined,
): void {
  if (values === null || typeof values !== "object" || typeof values.length !== "number") {
    throw new TypeError(`${fn}: batch.${field} must be an array of numbers or a typed array`);
  }
  if (values.length !== n) {
    throw new RangeError(`${fn}: batch.${field} has ${values.length} values but batch.policyChosen has ${n}`);
  }
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (typeof v !== "number" || !Number.isFinite(v)) {
      throw new RangeError(`${fn}: batch.${field}[${i}] is ${String(v)}, not a finite number`);
    }
    const problem = rule?.(v);
    if (problem) throw new RangeError(`${fn}: batch.${field}[${i}] is ${v}: ${problem}`);
  }
}
