// @sr2se/rl/tensor: GRPO on @sr2se/tensor and @sr2se/vlm: rollouts, Vision-SR1's self-reward pass,
// the actor loss fed back into the graph, and the trainer.

// the self-reward prompt is written once, in @sr2se/core
export { VISION_SR1_VERIFY_PROMPT, verifyPrompt } from "@sr2se/core";
export {
  descriptionLeaksAnswer,
  REWARD_KINDS,
  type RewardKind,
  type RewardScore,
  scoreResponse,
} from "./rollout/reward.js";
export {
  descriptionAnswers,
  type Rollout,
  type RolloutPrompt,
  rolloutSequence,
  type SamplingSettings,
  sampleRollouts,
} from "./rollout/rollout.js";
export {
  type ActorLossTensor,
  type ActorTargets,
  actorLossTensor,
  rowsOf,
} from "./tensor/actor-loss-tensor.js";
export { DEFAULT_GRPO, type GrpoConfig, resolveGrpoConfig } from "./trainer/config.js";
export { type BatchFigures, dataMetrics, meanOfKeys } from "./trainer/data-metrics.js";
export {
  type GrpoOptions,
  type GrpoResult,
  type GrpoSample,
  type RewardFunction,
  stepPrompts,
  trainGrpo,
} from "./trainer/grpo.js";
