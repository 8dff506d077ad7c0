export {
  type ActorBatch,
  type ActorLossOptions,
  type ActorLossResult,
  type ActorMetrics,
  actorLoss,
} from "./objective/actor-loss.js";
export type { Dtype } from "./objective/dtype.js";
export {
  type GrpoAdvantageOptions,
  grpoOutcomeAdvantage,
} from "./objective/grpo-advantage.js";
export { computeKl, KL_PENALTIES, type KlPenalty, type TokenKlPenalty } from "./objective/kl.js";
export { maskedMean } from "./objective/masked-mean.js";
export { computePolicyLoss, type PolicyLossOptions, type PolicyLossResult } from "./objective/policy-loss.js";
export type { Matrix } from "./objective/validate.js";
