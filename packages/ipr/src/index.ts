export {
  type AnswerCheck,
  type AnswerCheckerOptions,
  checkChoice,
  checkInteger,
  checkText,
  checkYesNo,
  createAnswerChecker,
  DEFAULT_FLOAT_TOLERANCE,
  type FloatTolerance,
  floatCheck,
  type GoldAnswer,
} from "./answer/check.js";
export {
  normalizeText,
  parseChoice,
  parseNumber,
  parseYesNo,
  stripAnswerMarkup,
} from "./answer/normalize.js";
export { type LocatedSample, readSamples } from "./data/samples.js";
export type { OutcomeKind, RefinementResult, SampleOutcome, SftRecord } from "./engine/outcome.js";
export { RefinementEngine, type RefinementOptions } from "./engine/refinement-engine.js";
export type { ResolvedOptions } from "./engine/resolved-options.js";
export {
  type ProgressSink,
  type RunInput,
  type RunResult,
  runFiles,
  runRefinement,
  type SampleError,
} from "./engine/run.js";
export { inShard, parseShard, type Shard, shardOf } from "./engine/shard.js";
export type { HallucinationStats, RefinementStatistics, RoundStats } from "./engine/stats.js";
export { checkFormat, type FormatCheck } from "./filters/format.js";
export type { HallucinationCount, HallucinationCounter } from "./hallucination/counter.js";
export { OpenAICompatiblePolicy, type OpenAICompatiblePolicyOptions } from "./policy/openai-compatible.js";
export { type ScriptContext, ScriptedPolicy } from "./policy/scripted.js";
export { chatMlPrompt, type PromptFormatter } from "./prompt/chat-format.js";
export {
  DEFAULT_PROMPT_TEMPLATE,
  DEFAULT_REFINEMENT_TEMPLATE,
  DEFAULT_SELF_REWARD_TEMPLATE,
} from "./prompt/defaults.js";
export { PromptTemplate, renderChoices, type TemplateValues } from "./prompt/template.js";
