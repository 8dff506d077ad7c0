export {
  type ChairOptions,
  type ChairResponseOptions,
  type ChairResult,
  type ChairSample,
  type ChairSampleResult,
  chairOfResponse,
  chairTotals,
  createHallucinationCounter,
  type HallucinationCount,
  type HallucinationCounter,
  scoreChair,
} from "./chair.js";
export { findMentions, type Mention } from "./mentions.js";
export { popeFalsePositiveRate } from "./pope-fpr.js";
export { readChairSamples } from "./read.js";
export { type ChairVocabulary, type CompiledVocabulary, compileVocabulary } from "./vocabulary.js";
