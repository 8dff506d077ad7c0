export type { EvalMode, Headline, SampleScore } from "./common/mode.js";
export * from "./compare/index.js";
export * from "./hallucination/index.js";
export * from "./mathvista/index.js";
export * from "./mmmu/index.js";
export * from "./mmvet/index.js";
export * from "./pope/index.js";
export * from "./predictions/index.js";
