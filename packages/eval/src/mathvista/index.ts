export {
  createTestPrompt,
  type Extraction,
  type ExtractionMethod,
  extractAnswer,
  extractAnswerByRules,
  MATHVISTA_DEMO_PROMPT,
  type MathVistaExtractor,
  type MathVistaExtractRequest,
} from "./extract-answer.js";
export { levenshtein } from "./levenshtein.js";
export { getMostSimilar, type NormalizeOptions, normalizeExtractedAnswer, safeEqual } from "./normalize.js";
export { createMathVistaExtractor, MATHVISTA_DEFAULT_EXTRACTOR_MODEL } from "./openai-extractor.js";
export {
  PythonOverflowError,
  pyFloat,
  pyFloatRepr,
  pyFormatFixed,
  pyInt,
  pyRound,
  pyStrip,
  truncToBigInt,
} from "./python-number.js";
export {
  type AccuracyCell,
  MATHVISTA_TARGET_KEYS,
  type MathVistaOptions,
  type MathVistaPrediction,
  type MathVistaProblemResult,
  type MathVistaResult,
  mathVistaTable,
  scoreMathVista,
} from "./score.js";
export type { MathVistaProblem, ScoringMode } from "./types.js";
