export { auroc } from "./metrics/auroc.js";
export { brierScore, expectedCalibrationError } from "./metrics/calibration.js";
export { accuracyTokenCurve, type ExitPoint, exitStep, type StepOutcome } from "./metrics/exit-curve.js";
export {
  chooseThreshold,
  DEFAULT_THRESHOLDS,
  type ThresholdChoice,
  type ThresholdOptions,
} from "./metrics/threshold.js";
export { extractBoxedContent } from "./reward/boxed.js";
export {
  accuracyReward,
  computeScore,
  descriptionFormatReward,
  extractDescription,
  formatReward,
  type ScoreInput,
  type VisionSr1Score,
} from "./reward/compute-score.js";
export { gradeAnswer, normalizeExpression } from "./reward/grader.js";
export { normalizeAnswer } from "./reward/math-normalize.js";
export { boxClosedAt, completedSteps, trialSuffix } from "./steps/boundary.js";
export { type Step, splitSteps, trialPrefix } from "./steps/split.js";
export { truncatedResponses } from "./steps/truncate.js";
