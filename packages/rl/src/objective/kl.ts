import { type Dtype, type Round, rounding, sumOf } from "./dtype.js";
import { roundMatrix } from "./masked-mean.js";
import { checkMatrix, type Matrix } from "./validate.js";

/** KL estimators that give one value a token (verl `compute_kl`'s `kl_penalty`). */
export type TokenKlPenalty = "kl" | "abs" | "mse" | "low_var_kl";
/** Every `kl_penalty` verl knows: the token estimators and `full`, which gives one value a row. */
export type KlPenalty = TokenKlPenalty | "full";

export const KL_PENALTIES: readonly KlPenalty[] = ["kl", "abs", "mse", "low_var_kl", "full"];

/**
 * Returns verl's `compute_kl(log_probs, ref_log_probs, kl_penalty)`: per token for `kl` (log π − log
 * π_ref), `abs`, `mse` (½·diff²) and `low_var_kl` (Schulman's k3, e^{ref−lp} − (ref−lp) − 1,
 * clamped to [−10, 10] after the exp, never before); per row for `full`, which sums
 * e^{lp}·(lp − ref) over every position of the row, masked or not.
 */
export function computeKl(
  logProbs: Matrix,
  refLogProbs: Matrix,
  penalty: "full",
  options?: { dtype?: Dtype },
): number[];
export function computeKl(
  logProbs: Matrix,
  refLogProbs: Matrix,
  penalty: TokenKlPenalty,
  options?: { dtype?: Dtype },
): number[][];
export function computeKl(
  logProbs: Matrix,
  refLogProbs: Matrix,
  penalty: KlPenalty,
  options?: { dtype?: Dtype },
): number[][] | number[];
export function computeKl(
  logProbs: Matrix,
  refLogProbs: Matrix,
  penalty: KlPenalty,
  options: { dtype?: Dtype } = {},
): number[][] | number[] {
  const fn = "computeKl";
  const round = rounding(fn, options.dtype);
  checkPenalty(fn, "penalty", penalty);
  const cols = checkMatrix(fn, "logProbs", logProbs);
  checkMatrix(fn, "refLogProbs", refLogProbs, logProbs.length, cols, "logProbs");
  const lp = roundMatrix(logProbs, round);
  const ref = roundMatrix(refLogProbs, round);
  if (penalty === "full") return lp.map((row, i) => fullKlRow(row, ref[i], round));
  return lp.map((row, i) => row.map((v, j) => tokenKl(penalty, v, ref[i][j], round)));
}

/** Throws unless `penalty` is one of verl's `kl_penalty` names. */
export function checkPenalty(fn: string, name: string, penalty: unknown): asserts penalty is KlPenalty {
  if (!KL_PENALTIES.includes(penalty as KlPenalty)) {
    throw new RangeError(
      `${fn}: ${name} is ${JSON.stringify(penalty)}, not one of ${KL_PENALTIES.join(", ")}`,
    );
  }
}

/** Returns one token's KL estimate from already-rounded log-probs. */
export function tokenKl(penalty: TokenKlPenalty, lp: number, ref: number, round: Round): number {
  switch (penalty) {
    case "kl":
      return round(lp - ref);
    case "abs":
      return Math.abs(round(lp - ref));
    case "mse": {
      const d = round(lp - ref);
      return round(0.5 * round(d * d));
    }
    case "low_var_kl": {
      const kl = round(ref - lp);
      return clamp(round(round(round(Math.exp(kl)) - kl) - 1), -10, 10);
    }
  }
}

/**
 * Returns ∂/∂lp of one token's KL estimate times the upstream gradient `g`, as torch's autograd
 * composes it op by op (so a clamped `low_var_kl` passes no gradient, and a NaN input passes 0 where
 * torch's `sgn` and `clamp` rules say so).
 */
export function tokenKlBackward(
  penalty: TokenKlPenalty,
  lp: number,
  ref: number,
  g: number,
  round: Round,
): number {
  switch (penalty) {
    case "kl":
      return g;
    case "abs":
      return round(g * sgn(round(lp - ref)));
    case "mse":
      return round(round(g * 0.5) * round(2 * round(lp - ref)));
    case "low_var_kl": {
      const kl = round(ref - lp);
      const e = round(Math.exp(kl));
      const kld = round(round(e - kl) - 1);
      // clamp's backward passes the gradient where min ≤ x ≤ max, bounds included; NaN fails both.
      const gKld = kld >= -10 && kld <= 10 ? g : 0;
      const gKl = round(round(gKld * e) - gKld);
      return -gKl;
    }
  }
}

/** torch's clamp: NaN stays NaN. */
export function clamp(x: number, lo: number, hi: number): number {
  return Math.min(Math.max(x, lo), hi);
}

/** torch 1.13's `sgn` of a real number: ±1, and 0 for ±0 and NaN. */
function sgn(x: number): number {
  return x > 0 ? 1 : x < 0 ? -1 : 0;
}

/** F.kl_div(ref, lp, log_target=True, reduction="none") = e^{lp}·(lp − ref), summed over the row. */
function fullKlRow(lp: number[], ref: number[], round: Round): number {
  const terms = lp.map((v, j) => round(round(Math.exp(v)) * round(v - ref[j])));
  return sumOf(terms, round);
}
