import { checkValues, type PreferenceBatch, type Values } from "./batch.js";
import { type LossType, PAIR_LOSS_TYPES, PAIR_LOSSES, type PairLossContext } from "./loss-types.js";

/** Options of `dpoLoss`; the defaults are TRL's `DPOConfig` defaults. */
export interface DpoLossOptions {
  /** β, the strength of the KL penalty toward the reference (default 0.1). */
  beta?: number;
  /** A loss type, or several combined as Σ_k lossWeights[k]·loss_k (default "sigmoid"). */
  lossType?: LossType | readonly LossType[];
  /** Weights of the combined loss types (default 1 each). */
  lossWeights?: readonly number[];
  /** ε: the label noise of `sigmoid` (cDPO), `robust` and `exo_pair` (default 0). */
  labelSmoothing?: number;
  /** Measure the policy against a uniform reference: the reference log-ratio is 0 in every loss type. */
  referenceFree?: boolean;
  /** τ of `discopop` (default 0.05). */
  discopopTau?: number;
  /** δ of `bco_pair`; default: the batch mean of β·(log-ratios), TRL's running mean after its first step. */
  bcoDelta?: number;
  /** Divide every log-prob by its completion length first; default true when `ipo` is among the loss types, as in TRL. */
  averageLogProbs?: boolean;
  /** SR-DPO: weight of the NLL of the chosen responses added to the loss (TRL's `rpo_alpha`; default 0). */
  alpha?: number;
}

/** Batch means named as TRL logs them, plus the loss. */
export interface DpoMetrics {
  loss: number;
  "rewards/chosen": number;
  "rewards/rejected": number;
  "rewards/accuracies": number;
  "rewards/margins": number;
  "logps/chosen": number;
  "logps/rejected": number;
  /** The mean NLL per chosen token, present when `alpha` > 0 or `sft` is a loss type. */
  nll_loss?: number;
}

/** What `dpoLoss` returns. */
export interface DpoLossResult {
  /** The mean of `losses`: the scalar to minimize. */
  loss: number;
  /** The loss of each pair (its NLL share included). */
  losses: Float64Array;
  /** Σ_k lossWeights[k]·β·(log π(y_w|x) − log π_ref(y_w|x)) of each pair, as TRL sums them. */
  chosenRewards: Float64Array;
  rejectedRewards: Float64Array;
  metrics: DpoMetrics;
  /** ∂loss/∂policyChosen[i] and ∂loss/∂policyRejected[i], for chaining into any autograd. */
  grad: { policyChosen: Float64Array; policyRejected: Float64Array };
}

const FN = "dpoLoss";
const ALL_LOSS_TYPES: readonly string[] = [...PAIR_LOSS_TYPES, "sft"];

function lossTypesOf(options: DpoLossOptions): { types: LossType[]; weights: number[] } {
  const lossType = options.lossType ?? "sigmoid";
  const types = (typeof lossType === "string" ? [lossType] : [...lossType]) as LossType[];
  if (types.length === 0) throw new RangeError(`${FN}: options.lossType is an empty list`);
  for (const t of types) {
    if (!ALL_LOSS_TYPES.includes(t)) {
      throw new RangeError(
        `${FN}: options.lossType "${String(t)}" is unknown; use one of ${ALL_LOSS_TYPES.join(", ")}`,
      );
    }
  }
  const weights = options.lossWeights ? [...options.lossWeights] : types.map(() => 1);
  if (weights.length !== types.length) {
    throw new RangeError(
      `${FN}: options.lossWeights has ${weights.length} weights for ${types.length} loss types`,
    );
  }
  weights.forEach((w, k) => {
    if (!Number.isFinite(w)) throw new RangeError(`${FN}: options.lossWeights[${k}] is ${w}, not finite`);
  });
  return { types, weights };
}

function positiveOption(name: string, value: number): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new RangeError(`${FN}: options.${name} is ${String(value)}; it must be a finite number > 0`);
  }
  return value;
}

function mean(values: Float64Array): number {
  let s = 0;
  for (const v of values) s += v;
  return s / values.length;
}

const positiveLength = (v: number) => (v > 0 ? undefined : "a completion length must be > 0");
const nonNegative = (v: number) => (v >= 0 ? undefined : "a pair weight must be >= 0");

/**
 * Returns the DPO-family loss of a batch of pairs (TRL's `dpo_loss` for each loss type, combined as
 * TRL combines them, plus SR-DPO's pair weights and NLL term), the rewards, TRL's metrics and the
 * gradient of the mean loss with respect to the policy log-probs.
 */
export function dpoLoss(batch: PreferenceBatch, options: DpoLossOptions = {}): DpoLossResult {
  if (batch === null || typeof batch !== "object") throw new TypeError(`${FN}: batch must be an object`);
  const beta = positiveOption("beta", options.beta ?? 0.1);
  const discopopTau = positiveOption("discopopTau", options.discopopTau ?? 0.05);
  const labelSmoothing = options.labelSmoothing ?? 0;
  if (!(labelSmoothing >= 0 && labelSmoothing < 1)) {
    throw new RangeError(`${FN}: options.labelSmoothing is ${labelSmoothing}; it must be in [0, 1)`);
  }
  const alpha = options.alpha ?? 0;
  if (!(alpha >= 0 && Number.isFinite(alpha))) {
    throw new RangeError(`${FN}: options.alpha is ${alpha}; it must be a finite number >= 0`);
  }
  const referenceFree = options.referenceFree ?? false;
  const { types, weights } = lossTypesOf(options);
  if (types.includes("robust") && labelSmoothing >= 0.5) {
    throw new RangeError(
      `${FN}: options.labelSmoothing is ${labelSmoothing}; "robust" divides by 1 − 2ε, so it must be < 0.5`,
    );
  }
  const averageLogProbs = options.averageLogProbs ?? types.includes("ipo");

  const pc = batch.policyChosen;
  if (pc === null || pc === undefined || typeof pc.length !== "number") {
    throw new TypeError(`${FN}: batch.policyChosen must be an array of numbers or a typed array`);
  }
  const n = pc.length;
  if (n === 0) throw new RangeError(`${FN}: the batch is empty (batch.policyChosen has no values)`);
  checkValues(FN, "policyChosen", pc, n);
  checkValues(FN, "policyRejected", batch.policyRejected, n);
  const zeros = new Float64Array(n);
  const refC: Values = batch.referenceChosen ?? zeros;
  const refR: Values = batch.referenceRejected ?? zeros;
  if (!referenceFree && (!batch.referenceChosen || !batch.referenceRejected)) {
    throw new RangeError(
      `${FN}: batch.referenceChosen and batch.referenceRejected are required unless options.referenceFree is true`,
    );
  }
  if (batch.referenceChosen) checkValues(FN, "referenceChosen", refC, n);
  if (batch.referenceRejected) checkValues(FN, "referenceRejected", refR, n);
  const nllWeight = alpha + types.reduce((s, t, k) => (t === "sft" ? s + weights[k] : s), 0);
  const needsNll = alpha > 0 || types.includes("sft");
  const needsLengths = needsNll || averageLogProbs;
  if (needsLengths && (!batch.chosenLengths || (averageLogProbs && !batch.rejectedLengths))) {
    const why = averageLogProbs
      ? "log-probs are averaged per token (averageLogProbs, the default with ipo)"
      : "the NLL term (alpha or sft) is a mean over chosen tokens";
    throw new RangeError(
      `${FN}: batch.chosenLengths${averageLogProbs ? " and batch.rejectedLengths are" : " is"} required: ${why}`,
    );
  }
  if (batch.chosenLengths) checkValues(FN, "chosenLengths", batch.chosenLengths, n, positiveLength);
  if (batch.rejectedLengths) checkValues(FN, "rejectedLengths", batch.rejectedLengths, n, positiveLength);
  if (batch.weights) checkValues(FN, "weights", batch.weights, n, nonNegative);

  // Per-token averaging scales each log-prob (policy and reference) by 1/length, as TRL does for ipo.
  const scaleC = new Float64Array(n).fill(1);
  const scaleR = new Float64Array(n).fill(1);
  if (averageLogProbs) {
    for (let i = 0; i < n; i++) {
      scaleC[i] = 1 / (batch.chosenLengths as Values)[i];
      scaleR[i] = 1 / (batch.rejectedLengths as Values)[i];
    }
  }
  const logpC = new Float64Array(n);
  const logpR = new Float64Array(n);
  const a = new Float64Array(n); // chosen log-ratio
  const b = new Float64Array(n); // rejected log-ratio
  const rewardC = new Float64Array(n);
  const rewardR = new Float64Array(n);
  let rewardScale = 0;
  types.forEach((t, k) => {
    if (t !== "sft") rewardScale += weights[k];
  });
  for (let i = 0; i < n; i++) {
    logpC[i] = pc[i] * scaleC[i];
    logpR[i] = batch.policyRejected[i] * scaleR[i];
    const rc = refC[i] * scaleC[i];
    const rr = refR[i] * scaleR[i];
    a[i] = referenceFree ? logpC[i] : logpC[i] - rc;
    b[i] = referenceFree ? logpR[i] : logpR[i] - rr;
    // TRL's rewards always subtract the reference it was given, reference-free or not.
    rewardC[i] = rewardScale * beta * (logpC[i] - rc);
    rewardR[i] = rewardScale * beta * (logpR[i] - rr);
  }

  let bcoDelta = options.bcoDelta;
  if (bcoDelta === undefined) {
    let s = 0;
    for (let i = 0; i < n; i++) s += a[i] + b[i];
    bcoDelta = (beta * s) / (2 * n);
  } else if (!Number.isFinite(bcoDelta)) {
    throw new RangeError(`${FN}: options.bcoDelta is ${bcoDelta}, not finite`);
  }
  const ctx: PairLossContext = { beta, labelSmoothing, discopopTau, bcoDelta };

  let nll = 0;
  let nllGrad = 0;
  if (needsNll) {
    let sumLogp = 0;
    let tokens = 0;
    for (let i = 0; i < n; i++) {
      sumLogp += pc[i];
      tokens += (batch.chosenLengths as Values)[i];
    }
    nll = -sumLogp / tokens;
    nllGrad = -nllWeight / tokens;
  }

  const losses = new Float64Array(n);
  const gradC = new Float64Array(n);
  const gradR = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let loss = 0;
    let dA = 0;
    let dB = 0;
    for (let k = 0; k < types.length; k++) {
      const t = types[k];
      if (t === "sft") continue;
      const p = PAIR_LOSSES[t](a[i], b[i], ctx);
      loss += weights[k] * p.loss;
      dA += weights[k] * p.dChosen;
      dB += weights[k] * p.dRejected;
    }
    const w = batch.weights ? batch.weights[i] : 1;
    losses[i] = w * loss + nllWeight * nll;
    gradC[i] = (w * dA * scaleC[i]) / n + nllGrad;
    gradR[i] = (w * dB * scaleR[i]) / n;
  }

  let correct = 0;
  const margins = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    if (rewardC[i] > rewardR[i]) correct++;
    margins[i] = rewardC[i] - rewardR[i];
  }
  const loss = mean(losses);
  const metrics: DpoMetrics = {
    loss,
    "rewards/chosen": mean(rewardC),
    "rewards/rejected": mean(rewardR),
    "rewards/accuracies": correct / n,
    "rewards/margins": mean(margins),
    "logps/chosen": mean(logpC),
    "logps/rejected": mean(logpR),
  };
  if (needsNll) metrics.nll_loss = nll;
  return {
    loss,
    losses,
    chosenRewards: rewardC,
    rejectedRewards: rewardR,
    metrics,
    grad: { policyChosen: gradC, policyRejected: gradR },
  };
}
