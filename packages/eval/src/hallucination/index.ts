export {
  type ChairOptions,
  type ChairResult,
  type ChairSample,
  type ChairSampleResult,
  chairOfResponse,
  chairTotals,
  scoreChair,
} from "./chair.js";
export { findMentions, type Mention } from "./mentions.js";
export { popeFalsePositiveRate } from "./pope-fpr.js";
export { readChairSamples } from "./read.js";
export {
  type ChairVocabulary,
  type CompiledVocabulary,
  compileVocabulary,
  SHAPES_WORLD_VOCABULARY,
} from "./vocabulary.js";
