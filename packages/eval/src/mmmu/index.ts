export { evalMultiChoice, evalOpen } from "./evaluate.js";
export {
  checkIsNumber,
  extractNumbers,
  keySubresponses,
  type MmmuValue,
  type MultiChoiceParse,
  type MultiChoiceSource,
  normalizeStr,
  parseMultiChoiceResponse,
  parseOpenResponse,
} from "./parse.js";
export { PythonRandom } from "./python-random.js";
export { readMmmuQuestions } from "./read.js";
export {
  type MmmuCell,
  type MmmuOptions,
  type MmmuQuestion,
  type MmmuResult,
  type MmmuSampleResult,
  mmmuOptions,
  mmmuTable,
  parsePythonStringList,
  scoreMmmu,
} from "./score.js";
export { MMMU_CAT_SHORT2LONG, MMMU_DISCIPLINES, multiChoiceInfo, subjectOfId } from "./subjects.js";
