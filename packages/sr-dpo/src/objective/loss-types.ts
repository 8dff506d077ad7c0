import { logSigmoid, sigmoid, sigmoidGrad, softplus } from "./stable-math.js";

/** The pairwise loss types, by TRL's names (`DPOConfig.loss_type`). */
export const PAIR_LOSS_TYPES = [
  "sigmoid",
  "robust",
  "exo_pair",
  "hinge",
  "ipo",
  "bco_pair",
  "sppo_hard",
  "nca_pair",
  "apo_zero",
  "apo_down",
  "discopop",
] as const;

/** A loss type computed pair by pair from the two log-ratios. */
export type PairLossType = (typeof PAIR_LOSS_TYPES)[number];

/** Every loss type `dpoLoss` accepts: the pairwise ones and `sft` (the NLL of the chosen responses, as in TRL's MPO). */
export type LossType = PairLossType | "sft";

/** The constants a pairwise loss reads. */
export interface PairLossContext {
  beta: number;
  labelSmoothing: number;
  discopopTau: number;
  /** The reward baseline δ subtracted by `bco_pair` (TRL's running mean of the rewards). */
  bcoDelta: number;
}

/** One pair's loss and its partial derivatives with respect to the two log-ratios. */
export interface PairLoss {
  loss: number;
  /** ∂loss/∂a, a = log π(y_w|x) − log π_ref(y_w|x). */
  dChosen: number;
  /** ∂loss/∂b, b = log π(y_l|x) − log π_ref(y_l|x). */
  dRejected: number;
}

/**
 * A pairwise loss as a function of a (the chosen log-ratio) and b (the rejected log-ratio), with
 * Δ = a − b the DPO logit. Each row is TRL's formula, rewritten only where the direct form
 * overflows; the derivative of the rewritten form is the derivative of TRL's.
 */
type PairLossFn = (a: number, b: number, c: PairLossContext) => PairLoss;

/** A loss of Δ alone: `dChosen = ℓ'(Δ)`, `dRejected = −ℓ'(Δ)`. */
function ofDelta(loss: number, dDelta: number): PairLoss {
  return { loss, dChosen: dDelta, dRejected: -dDelta };
}

export const PAIR_LOSSES: Record<PairLossType, PairLossFn> = {
  // Conservative DPO: −(1−ε)·log σ(βΔ) − ε·log σ(−βΔ).
  sigmoid(a, b, { beta, labelSmoothing: e }) {
    const z = beta * (a - b);
    const loss = -(1 - e) * logSigmoid(z) - e * logSigmoid(-z);
    return ofDelta(loss, beta * (-(1 - e) * sigmoid(-z) + e * sigmoid(z)));
  },

  // Robust DPO: (−(1−ε)·log σ(βΔ) + ε·log σ(−βΔ)) / (1 − 2ε).
  robust(a, b, { beta, labelSmoothing: e }) {
    const z = beta * (a - b);
    const loss = (-(1 - e) * logSigmoid(z) + e * logSigmoid(-z)) / (1 - 2 * e);
    return ofDelta(loss, (beta * (-(1 - e) * sigmoid(-z) - e * sigmoid(z))) / (1 - 2 * e));
  },

  // EXO-pref (eqn 16): σ(z)(log σ(z) − log(1−ε)) + σ(−z)(log σ(−z) − log ε), z = βΔ; ε = 1e-3 when 0.
  exo_pair(a, b, { beta, labelSmoothing }) {
    const e = labelSmoothing === 0 ? 1e-3 : labelSmoothing;
    const z = beta * (a - b);
    const logPw = Math.log1p(-e);
    const logPl = Math.log(e);
    const loss = sigmoid(z) * (logSigmoid(z) - logPw) + sigmoid(-z) * (logSigmoid(-z) - logPl);
    // d/dz = σ(z)σ(−z)·(log σ(z) − log σ(−z) − log(1−ε) + log ε) and log σ(z) − log σ(−z) = z.
    return ofDelta(loss, beta * sigmoidGrad(z) * (z - logPw + logPl));
  },

  // Hinge (SLiC): relu(1 − βΔ); the derivative at the kink is 0, as torch.relu's.
  hinge(a, b, { beta }) {
    const z = beta * (a - b);
    return ofDelta(Math.max(0, 1 - z), 1 - z > 0 ? -beta : 0);
  },

  // IPO (eqn 17): (Δ − 1/(2β))².
  ipo(a, b, { beta }) {
    const r = a - b - 1 / (2 * beta);
    return ofDelta(r * r, 2 * r);
  },

  // BCO on pairs: −log σ(βa − δ) − log σ(−(βb − δ)).
  bco_pair(a, b, { beta, bcoDelta: d }) {
    const zc = beta * a - d;
    const zr = beta * b - d;
    return {
      loss: -logSigmoid(zc) - logSigmoid(-zr),
      dChosen: -beta * sigmoid(-zc),
      dRejected: beta * sigmoid(zr),
    };
  },

  // SPPO, hard probabilities: (a − 1/(2β))² + (b + 1/(2β))².
  sppo_hard(a, b, { beta }) {
    const rc = a - 0.5 / beta;
    const rr = b + 0.5 / beta;
    return { loss: rc * rc + rr * rr, dChosen: 2 * rc, dRejected: 2 * rr };
  },

  // NCA on pairs: −log σ(βa) − ½·log σ(−βa) − ½·log σ(−βb).
  nca_pair(a, b, { beta }) {
    const zc = beta * a;
    const zr = beta * b;
    return {
      loss: -logSigmoid(zc) - 0.5 * logSigmoid(-zc) - 0.5 * logSigmoid(-zr),
      dChosen: beta * (-sigmoid(-zc) + 0.5 * sigmoid(zc)),
      dRejected: beta * 0.5 * sigmoid(zr),
    };
  },

  // APO-zero (eqn 7): (1 − σ(βa)) + σ(βb).
  apo_zero(a, b, { beta }) {
    const zc = beta * a;
    const zr = beta * b;
    return {
      loss: sigmoid(-zc) + sigmoid(zr),
      dChosen: -beta * sigmoidGrad(zc),
      dRejected: beta * sigmoidGrad(zr),
    };
  },

  // APO-down (eqn 8): σ(βa) + (1 − σ(βΔ)).
  apo_down(a, b, { beta }) {
    const zc = beta * a;
    const z = beta * (a - b);
    const dz = beta * sigmoidGrad(z);
    return {
      loss: sigmoid(zc) + sigmoid(-z),
      dChosen: beta * sigmoidGrad(zc) - dz,
      dRejected: dz,
    };
  },

  // DiscoPOP (eqn 5): −log σ(z)·(1 − m) + e^−z·m, z = βΔ, m = σ(z/τ).
  discopop(a, b, { beta, discopopTau: tau }) {
    const z = beta * (a - b);
    const oneMinusM = sigmoid(-z / tau);
    const logistic = softplus(-z); // −log σ(z)
    // e^−z·σ(z/τ) in log space: TRL's exp(−z) overflows to Inf (and Inf·0 = NaN) for z < −709.
    const expTerm = Math.exp(-z + logSigmoid(z / tau));
    const loss = logistic * oneMinusM + expTerm;
    const dm = sigmoidGrad(z / tau) / tau;
    const dz =
      -sigmoid(-z) * oneMinusM -
      logistic * dm -
      expTerm +
      Math.exp(-z + logSigmoid(z / tau) + logSigmoid(-z / tau)) / tau;
    return ofDelta(loss, beta * dz);
  },
};
