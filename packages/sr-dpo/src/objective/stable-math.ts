// Scalar functions in forms that never overflow: every exp() sees a non-positive argument.

/** Returns log(1 + e^x) without overflow or cancellation. */
export function softplus(x: number): number {
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}

/** Returns log σ(x) = −softplus(−x). */
export function logSigmoid(x: number): number {
  return -softplus(-x);
}

/** Returns σ(x) = 1 / (1 + e^−x), exact in both tails. */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** Returns σ'(x) = σ(x)·σ(−x), which underflows to 0 (never NaN) in both tails. */
export function sigmoidGrad(x: number): number {
  return sigmoid(x) * sigmoid(-x);
}
