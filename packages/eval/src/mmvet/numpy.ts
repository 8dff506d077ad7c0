// NumPy's float64 reductions and rounding, as mm-vet_evaluator.py applies them to its scores:
// pairwise summation, mean, population std, and np.round (scale, round half to even, unscale),
// which differs from Python's correctly rounded round() (np.round(0.15, 1) is 0.2, round(0.15, 1) 0.1).

/** Sum of a float64 array as numpy's pairwise_sum adds it (blocks of 8 accumulators, halves past 128). */
export function npSum(a: readonly number[]): number {
  return 0 + pairwise(a, 0, a.length);
}

function pairwise(a: readonly number[], start: number, n: number): number {
  if (n < 8) {
    let res = -0;
    for (let i = 0; i < n; i++) res += a[start + i] as number;
    return res;
  }
  if (n <= 128) {
    const r = Array.from({ length: 8 }, (_, j) => a[start + j] as number);
    let i = 8;
    for (; i < n - (n % 8); i += 8) {
      for (let j = 0; j < 8; j++) r[j] = (r[j] as number) + (a[start + i + j] as number);
    }
    let res =
      (r[0] as number) +
      (r[1] as number) +
      ((r[2] as number) + (r[3] as number)) +
      ((r[4] as number) + (r[5] as number) + ((r[6] as number) + (r[7] as number)));
    for (; i < n; i++) res += a[start + i] as number;
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return pairwise(a, start, n2) + pairwise(a, start + n2, n - n2);
}

/** np.mean of a float64 array. */
export function npMean(a: readonly number[]): number {
  return npSum(a) / a.length;
}

/** np.std of a float64 array (ddof 0). */
export function npStd(a: readonly number[]): number {
  const mean = npMean(a);
  const sq = a.map((x) => (x - mean) * (x - mean));
  return Math.sqrt(npSum(sq) / a.length);
}

/** C's rint: nearest integer, ties to even, sign of zero kept. */
function rint(y: number): number {
  if (!Number.isFinite(y)) return y;
  const f = Math.floor(y);
  const diff = y - f;
  let r = diff > 0.5 ? f + 1 : diff < 0.5 ? f : f % 2 === 0 ? f : f + 1;
  if (r === 0 && (y < 0 || Object.is(y, -0))) r = -0;
  return r;
}

/** np.round(x, decimals) for a float64 (and round(np.float64, d), which calls it). */
export function npRound(x: number, decimals: number): number {
  const f = 10 ** Math.abs(decimals);
  return decimals >= 0 ? rint(x * f) / f : rint(x / f) * f;
}
