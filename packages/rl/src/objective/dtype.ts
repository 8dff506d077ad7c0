/** The float type a computation runs in, named as torch names it. */
export type Dtype = "float32" | "float64";

/** A rounding applied after every operation: `Math.fround` in float32, none in float64. */
export type Round = (x: number) => number;

const identity: Round = (x) => x;

/** Returns the rounding torch applies after each op on a tensor of `dtype` (default float32, verl's dtype). */
export function rounding(fn: string, dtype: Dtype | undefined): Round {
  if (dtype === undefined || dtype === "float32") return Math.fround;
  if (dtype === "float64") return identity;
  throw new RangeError(`${fn}: options.dtype is ${JSON.stringify(dtype)}, not "float32" or "float64"`);
}

/**
 * Returns the sum of `values`, rounded once. torch sums a float32 tensor by cascade summation, whose
 * order depends on the CPU's vector width; adding in float64 and rounding at the end lands within
 * an ulp or two of it on any machine, where a left-to-right float32 sum would drift by hundreds.
 */
export function sumOf(values: ArrayLike<number>, round: Round): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i];
  return round(s);
}
