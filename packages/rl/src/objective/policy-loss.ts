import { type Dtype, type Round, rounding } from "./dtype.js";
import { clamp } from "./kl.js";
import { maskedMeanDenominator, roundMatrix } from "./masked-mean.js";
import { checkMask, checkMatrix, checkOption, type Matrix } from "./validate.js";

export interface PolicyLossOptions {
  /** Lower clip ε: the log-ratio is clamped at log(1 − ε) (verl default 0.2). */
  clipRatioLow?: number;
  /** Upper clip ε (DAPO's clip-higher): the log-ratio is clamped at log(1 + ε) (verl default 0.3). */
  clipRatioHigh?: number;
  /** Dual-clip c: for negative advantages the loss is capped at −A·c (verl default 3.0). */
  clipRatioDual?: number;
  /** float32 (verl's training dtype, the default) or float64. */
  dtype?: Dtype;
}

export interface PolicyLossResult {
  /** The token-mean clipped surrogate loss over the micro-batch. */
  pgLoss: number;
  /** Fraction of unmasked tokens where the upper/lower clip bound the loss. */
  pgClipfracHigher: number;
  /** Fraction of unmasked tokens with a negative advantage where the dual clip bound the loss. */
  pgClipfracLower: number;
  /** Token-mean of log π_old − log π. */
  ppoKl: number;
  /** ∂pgLoss/∂logProbs, one value a token, as torch's autograd gives it. */
  grad: number[][];
}

/**
 * Returns verl's `compute_policy_loss`: PPO's clipped surrogate with DAPO's asymmetric clip applied to
 * the log-ratio, Dual-clip for negative advantages, every mean one token-mean over the micro-batch,
 * plus its gradient with respect to `logProbs`.
 */
export function computePolicyLoss(
  oldLogProbs: Matrix,
  logProbs: Matrix,
  advantages: Matrix,
  responseMask: Matrix,
  options: PolicyLossOptions = {},
): PolicyLossResult {
  const fn = "computePolicyLoss";
  const round = rounding(fn, options.dtype);
  const inputs = checkPolicyInputs(fn, oldLogProbs, logProbs, advantages, responseMask, round);
  const { grad, ...metrics } = policyLossTerms(fn, inputs, options, round);
  return { ...metrics, grad: grad(1) };
}

/** Rounded copies of the policy-loss inputs, checked to share one shape. */
export interface PolicyInputs {
  old: number[][];
  lp: number[][];
  adv: number[][];
  mask: Matrix;
  denominator: number;
}

/** Throws unless the four matrices are rectangular and of one shape; returns them rounded to the dtype. */
export function checkPolicyInputs(
  fn: string,
  oldLogProbs: Matrix,
  logProbs: Matrix,
  advantages: Matrix,
  responseMask: Matrix,
  round: Round,
): PolicyInputs {
  const cols = checkMatrix(fn, "logProbs", logProbs);
  const rows = logProbs.length;
  checkMatrix(fn, "oldLogProbs", oldLogProbs, rows, cols, "logProbs");
  checkMatrix(fn, "advantages", advantages, rows, cols, "logProbs");
  checkMask(fn, "responseMask", responseMask, rows, cols, "logProbs");
  return {
    old: roundMatrix(oldLogProbs, round),
    lp: roundMatrix(logProbs, round),
    adv: roundMatrix(advantages, round),
    mask: responseMask,
    denominator: maskedMeanDenominator(responseMask),
  };
}

/** The policy-loss values and a backward pass taking the upstream gradient of `pgLoss`. */
export interface PolicyLossTerms {
  pgLoss: number;
  pgClipfracHigher: number;
  pgClipfracLower: number;
  ppoKl: number;
  grad: (upstream: number) => number[][];
}

/** Returns the policy loss's forward values, with a closure running its backward pass. */
export function policyLossTerms(
  fn: string,
  inputs: PolicyInputs,
  options: PolicyLossOptions,
  round: Round,
): PolicyLossTerms {
  const clipLow = options.clipRatioLow ?? 0.2;
  const clipHigh = options.clipRatioHigh ?? 0.3;
  const clipDual = options.clipRatioDual ?? 3.0;
  checkOption(fn, "clipRatioLow", clipLow, 0, 1);
  checkOption(fn, "clipRatioHigh", clipHigh, 0);
  checkOption(fn, "clipRatioDual", clipDual, 0);
  // np.log gives float64 bounds; torch.clamp casts them to the tensor's dtype.
  const lo = round(Math.log(1 - clipLow));
  const hi = round(Math.log(1 + clipHigh));
  const dual = round(clipDual);

  const { old, lp, adv, mask, denominator } = inputs;
  const rows = lp.length;
  const terms: TokenTerms[][] = new Array(rows);
  // masked_mean's numerators, value·mask summed over the micro-batch (see sumOf for the order).
  let lossSum = 0;
  let higherSum = 0;
  let lowerSum = 0;
  let klSum = 0;
  for (let i = 0; i < rows; i++) {
    const cols = lp[i].length;
    const row: TokenTerms[] = new Array(cols);
    for (let j = 0; j < cols; j++) {
      const t = token(lp[i][j], old[i][j], adv[i][j], lo, hi, dual, round);
      const m = mask[i][j];
      lossSum += t.loss * m;
      higherSum += t.clippedHigher * m;
      lowerSum += t.clippedLower * m;
      klSum += -t.logRatio * m;
      row[j] = t;
    }
    terms[i] = row;
  }

  const grad = (upstream: number): number[][] => {
    // masked_mean's backward: the upstream gradient over the denominator, times the mask.
    const perToken = round(upstream / denominator);
    return terms.map((row, i) =>
      row.map((t, j) => tokenBackward(t, adv[i][j], lo, hi, perToken * mask[i][j], round)),
    );
  };

  return {
    pgLoss: round(round(lossSum) / denominator),
    // The clip indicators are `.float()` of a comparison: float32 whatever the dtype of the loss.
    pgClipfracHigher: Math.fround(Math.fround(higherSum) / denominator),
    pgClipfracLower: Math.fround(Math.fround(lowerSum) / denominator),
    ppoKl: round(round(klSum) / denominator),
    grad,
  };
}

interface TokenTerms {
  logRatio: number;
  ratio: number;
  clippedRatio: number;
  /** −A·ratio, −A·clipped ratio, −A·c. */
  loss1: number;
  loss2: number;
  loss3: number;
  higher: number;
  loss: number;
  clippedHigher: number;
  clippedLower: number;
}

/** One token of `compute_policy_loss`, op by op in the order core_algos.py writes them. */
function token(
  lp: number,
  old: number,
  a: number,
  lo: number,
  hi: number,
  dual: number,
  round: Round,
): TokenTerms {
  const logRatio = round(lp - old);
  const ratio = round(Math.exp(logRatio));
  // The clip acts on the log-ratio before the exp, not on the ratio.
  const clippedRatio = round(Math.exp(clamp(logRatio, lo, hi)));
  const loss1 = round(-a * ratio);
  const loss2 = round(-a * clippedRatio);
  const loss3 = round(-a * dual);
  // torch.max / torch.min of two tensors propagate NaN, as Math.max / Math.min do.
  const higher = Math.max(loss1, loss2);
  const lower = Math.min(higher, loss3);
  const negative = a < 0;
  return {
    logRatio,
    ratio,
    clippedRatio,
    loss1,
    loss2,
    loss3,
    higher,
    loss: negative ? lower : higher,
    clippedHigher: loss1 < loss2 ? 1 : 0,
    // Counted with the higher-clipped loss, so a token the dual clip caps counts here too.
    clippedLower: higher > loss3 && negative ? 1 : 0,
  };
}

/**
 * ∂loss/∂lp for one token given the upstream gradient `g`, by torch's backward rules: `where` routes
 * the gradient to the branch it took; `maximum` and `minimum` give a tie half to each side (so a
 * token whose loss equals the dual cap gets half the gradient, the other half going to the constant
 * cap); `clamp` passes the gradient where lo ≤ x ≤ hi, bounds included.
 */
function tokenBackward(t: TokenTerms, a: number, lo: number, hi: number, g: number, round: Round): number {
  const negative = a < 0;
  const gLower = negative ? g : 0;
  const gHigherFromWhere = negative ? 0 : g;
  const gHigherFromMin = t.higher === t.loss3 ? round(gLower / 2) : t.higher > t.loss3 ? 0 : gLower;
  const gHigher = gHigherFromWhere + gHigherFromMin;
  const g1 = t.loss1 === t.loss2 ? round(gHigher / 2) : t.loss1 < t.loss2 ? 0 : gHigher;
  const g2 = t.loss1 === t.loss2 ? round(gHigher / 2) : t.loss1 > t.loss2 ? 0 : gHigher;
  const throughRatio = round(round(g1 * -a) * t.ratio);
  const throughClip = round(round(g2 * -a) * t.clippedRatio);
  const passes = t.logRatio >= lo && t.logRatio <= hi;
  return round(throughRatio + (passes ? throughClip : 0));
}
