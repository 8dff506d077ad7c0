export { type AnswerCheck, type GoldAnswer, visionSr1Accuracy } from "./answer/check.js";
export { type LocatedSample, readSamples } from "./data/samples.js";
export type {
  OutcomeKind,
  RefinementResult,
  SampleOutcome,
  SelfRewardCheck,
  SftRecord,
} from "./engine/outcome.js";
export { type ImageCorrupter, RefinementEngine, type RefinementOptions } from "./engine/refinement-engine.js";
export type { BalanceKey, NegativeSource, ResolvedOptions } from "./engine/resolved-options.js";
export {
  type ProgressSink,
  type Refiner,
  type RunInput,
  type RunResult,
  runFiles,
  runRefinement,
  type SampleError,
} from "./engine/run.js";
export { requestSeed } from "./engine/seeds.js";
export { inShard, parseShard, type Shard, shardOf } from "./engine/shard.js";
export type {
  CheckAgreement,
  HallucinationStats,
  PairsPass,
  RefinementStatistics,
  RoundStats,
} from "./engine/stats.js";
export { checkFormat, type FormatCheck } from "./filters/format.js";
export type { HallucinationCount, HallucinationCounter } from "./hallucination/counter.js";
export { OpenAICompatiblePolicy, type OpenAICompatiblePolicyOptions } from "./policy/openai-compatible.js";
export { type ScriptContext, ScriptedPolicy } from "./policy/scripted.js";
export { chatMlPrompt, type PromptFormatter } from "./prompt/chat-format.js";
export { DEFAULT_PROMPT_TEMPLATE, DEFAULT_REFINEMENT_TEMPLATE } from "./prompt/defaults.js";
export { PromptTemplate, renderChoices, type TemplateValues } from "./prompt/template.js";
