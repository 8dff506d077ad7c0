export { readPopeAnswers } from "./answers.js";
export { averagePopeMetrics, type PopeMetrics, popeMetrics } from "./metrics.js";
export { parsePopeAnswer, parsePopeAnswerOfficial, parsePopeAnswerRobust, popeLabel } from "./parse.js";
export {
  POPE_SPLITS,
  type PopeOptions,
  type PopeQuestion,
  type PopeResult,
  type PopeSampleResult,
  popeSplitMetrics,
  popeTable,
  readPopeQuestions,
  scorePope,
  splitFromFileName,
} from "./score.js";
