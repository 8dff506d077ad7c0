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
