// @sr2se/hsr-ee/tensor: the parts of HSR-EE that run the policy (on @sr2se/tensor and @sr2se/vlm):
// trial answers taken from the KV cache while decoding, the gate g_φ, early-exit generation and
// prediction, and the HSR-EE policy training.

export { type GateConfig, GateHead, gateFeatures, SCALAR_FEATURES } from "./gate/gate-head.js";
export { balancedBce, type TrainGateOptions, trainGate } from "./gate/train-gate.js";
export { alwaysDeep, probabilityGate } from "./gate/training-free.js";
export {
  DEFAULT_HSR_EE,
  type Example as HsrEeExample,
  type HsrEeOptions,
  type HsrEeResult,
  type HsrEeTrainingConfig,
  hsrEeExamples,
  trainHsrEe,
} from "./train/train-hsr-ee.js";
export { type EarlyExitGeneration, EarlyExitPolicy } from "./trials/early-exit-policy.js";
export {
  type GradedQuestion,
  type LabelledTrajectory,
  labelledTrajectories,
  stepOutcomes,
} from "./trials/labelled.js";
export {
  type Gate,
  generateTrials,
  predictionOf,
  type TrialOptions,
  type TrialRequest,
  type TrialStep,
  type TrialTrajectory,
  trialHook,
  trialStepOf,
} from "./trials/trials.js";
