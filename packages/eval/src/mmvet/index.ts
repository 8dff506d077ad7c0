export {
  aggregateMmVet,
  capabilityColumns,
  capabilitySetColumns,
  type MmVetColumn,
  type MmVetTable,
} from "./aggregate.js";
export { CachedJudge, type CachedJudgment, JudgmentCache, judgmentKey } from "./cache.js";
export { type GradeOptions, type GradeOutcome, gradeSample, parseJudgeScore } from "./grade.js";
export { isRateLimitError, type JudgeReply, type JudgeRequest, type MmVetJudge } from "./judge.js";
export { npMean, npRound, npStd, npSum } from "./numpy.js";
export {
  type CreateMmVetJudgeOptions,
  createMmVetJudge,
  MMVET_DEFAULT_JUDGE_MODEL,
  OpenAIMmVetJudge,
} from "./openai-judge.js";
export { buildGradeQuery, MMVET_GRADER_PROMPT, MMVET_RETRY_SUFFIX } from "./prompt.js";
export { type MmVetOptions, type MmVetResult, scoreMmVet } from "./score.js";
export { canonicalTokens, mentionedObjects, ShapesWorldJudge, shapesScore } from "./shapes-judge.js";
export type { MmVetMode, MmVetSample } from "./types.js";
