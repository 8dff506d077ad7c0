import { rounding } from "./dtype.js";
import { checkPenalty, type TokenKlPenalty, tokenKl, tokenKlBackward } from "./kl.js";
import { maskedMeanOf, roundMatrix } from "./masked-mean.js";
import { checkPolicyInputs, type PolicyLossOptions, policyLossTerms } from "./policy-loss.js";
import { checkMatrix, checkOption, type Matrix } from "./validate.js";

/** One micro-batch of the actor update, one row a response, one column a response token. */
export interface ActorBatch {
  /** log π_old of the sampled tokens, from the rollout (no gradient). */
  oldLogProbs: Matrix;
  /** log π of the sampled tokens under the policy being trained: the loss's gradient is taken with respect to these. */
  logProbs: Matrix;
  /** Per-token advantages (`grpoOutcomeAdvantage`). */
  advantages: Matrix;
  /** 1 for a response token, 0 for padding. */
  responseMask: Matrix;
  /** log π_ref of the frozen reference policy. Without it there is no KL term (verl's `use_kl_loss: false`). */
  refLogProbs?: Matrix;
}

export interface ActorLossOptions extends PolicyLossOptions {
  /** The KL estimator of the KL loss (Vision-SR1's configs: `low_var_kl`). `full` is refused: see the README. */
  klPenalty?: TokenKlPenalty;
  /** Weight of the KL loss (Vision-SR1's configs: 0.01). */
  klCoef?: number;
  /** Micro-batches a mini-batch is split into: the loss is divided by this before its backward. */
  gradientAccumulation?: number;
}

/** verl's actor metrics for one micro-batch, under verl's names. */
export interface ActorMetrics {
  /** The policy loss plus klCoef · klLoss, before the division by the accumulation count (verl reassigns `pg_loss`). */
  "actor/pg_loss": number;
  "actor/pg_clipfrac_higher": number;
  "actor/pg_clipfrac_lower": number;
  /** −mean log π over the unmasked tokens. */
  "actor/entropy_loss": number;
  "actor/ppo_kl": number;
  /** Present only with `refLogProbs`. */
  "actor/kl_loss"?: number;
  "actor/kl_coef"?: number;
}

export interface ActorLossResult {
  /** (pgLoss + klCoef · klLoss) / gradientAccumulation: what verl calls `backward()` on. */
  loss: number;
  /** ∂loss/∂logProbs, one value a token. */
  grad: number[][];
  metrics: ActorMetrics;
}

/**
 * Returns the loss verl's `DataParallelPPOActor.update_policy` backpropagates for one micro-batch,
 * (pgLoss + klCoef · masked_mean(KL)) / gradientAccumulation, its gradient with respect to
 * `logProbs`, and the metrics verl logs for it.
 */
export function actorLoss(batch: ActorBatch, options: ActorLossOptions = {}): ActorLossResult {
  const fn = "actorLoss";
  const round = rounding(fn, options.dtype);
  const klPenalty = options.klPenalty ?? "low_var_kl";
  const klCoef = options.klCoef ?? 0.01;
  const accumulation = options.gradientAccumulation ?? 1;
  checkPenalty(fn, "options.klPenalty", klPenalty);
  if (klPenalty === ("full" as string)) {
    throw new RangeError(
      `${fn}: options.klPenalty "full" gives one value a row, which verl's masked_mean would broadcast against the [rows, tokens] mask; use a per-token penalty`,
    );
  }
  checkOption(fn, "klCoef", klCoef, 0);
  if (!Number.isInteger(accumulation) || accumulation < 1) {
    throw new RangeError(`${fn}: options.gradientAccumulation is ${accumulation}, not a whole number ≥ 1`);
  }
  if (batch === null || typeof batch !== "object") throw new TypeError(`${fn}: batch must be an object`);
  const inputs = checkPolicyInputs(
    fn,
    batch.oldLogProbs,
    batch.logProbs,
    batch.advantages,
    batch.responseMask,
    round,
  );
  const { lp, mask, denominator } = inputs;
  if (batch.refLogProbs !== undefined) {
    checkMatrix(fn, "refLogProbs", batch.refLogProbs, lp.length, lp[0]?.length ?? 0, "logProbs");
  }
  const policy = policyLossTerms(fn, inputs, options, round);

  const metrics: ActorMetrics = {
    "actor/pg_loss": policy.pgLoss,
    "actor/pg_clipfrac_higher": policy.pgClipfracHigher,
    "actor/pg_clipfrac_lower": policy.pgClipfracLower,
    "actor/entropy_loss": -maskedMeanOf(lp, mask, round, denominator),
    "actor/ppo_kl": policy.ppoKl,
  };
  // verl divides by a Python int; torch casts it to the tensor's dtype.
  const upstream = round(1 / accumulation);
  let total = policy.pgLoss;
  let grad = policy.grad(upstream);

  if (batch.refLogProbs !== undefined) {
    const ref = roundMatrix(batch.refLogProbs, round);
    const kld = lp.map((row, i) => row.map((v, j) => tokenKl(klPenalty, v, ref[i][j], round)));
    const klLoss = maskedMeanOf(kld, mask, round, denominator);
    const coef = round(klCoef);
    total = round(policy.pgLoss + round(klLoss * coef));
    metrics["actor/pg_loss"] = total;
    metrics["actor/kl_loss"] = klLoss;
    metrics["actor/kl_coef"] = klCoef;
    const perToken = round(round(upstream * coef) / denominator);
    grad = grad.map((row, i) =>
      row.map((g, j) =>
        round(g + tokenKlBackward(klPenalty, lp[i][j], ref[i][j], perToken * mask[i][j], round)),
      ),
    );
  }
  return { loss: round(total / accumulation), grad, metrics };
}
