export type { PreferenceBatch, Values } from "./objective/batch.js";
export { type DpoLossOptions, type DpoLossResult, type DpoMetrics, dpoLoss } from "./objective/dpo-loss.js";
export {
  type LossType,
  PAIR_LOSS_TYPES,
  type PairLossType,
} from "./objective/loss-types.js";
export { weightsFromRewardGap } from "./objective/pair-weights.js";
export { RunningMean } from "./objective/running-mean.js";
export { logSigmoid, sigmoid, softplus } from "./objective/stable-math.js";
