// @sr2se/vlm: a compact LLaVA-style vision-language model on @sr2se/tensor.

export {
  type CheckpointFiles,
  checkpointDirOf,
  checkpointHash,
  readCheckpoint,
  readSafetensorsFile,
  type SafetensorsContent,
  writeCheckpoint,
} from "./checkpoint/checkpoint.js";
export { type HostTensors, loadLlamaWeights, loadStateDict, stateDict } from "./checkpoint/weights.js";
export {
  defaultConfig,
  numImageTokens,
  type TextConfig,
  textHeadDim,
  type VisionConfig,
  type VlmConfig,
  validateConfig,
} from "./config.js";
export { type CollatedBatch, collate, type SequenceInput } from "./data/batch.js";
export { type EncodedExample, encodeChat, encodePrompt, IGNORE_INDEX } from "./data/encode.js";
export { preprocessImage, preprocessImages } from "./data/images.js";
export { type QuestionRecord, questionOf, readQuestions } from "./data/questions.js";
export { useFastestBackend } from "./device.js";
export type { Branch, BranchHook } from "./generation/branch.js";
export { type DecodedSequence, type DecodeOptions, decode } from "./generation/generate.js";
export {
  answerQuestions,
  type PredictOptions,
  predictFile,
  unansweredError,
} from "./generation/predict.js";
export { entropyOf, type SamplingOptions, sampleToken, topLogprobs } from "./generation/sampling.js";
export { streamTokens, tokenLogprobOf, tokenLogprobsOf } from "./generation/token-stream.js";
export { configureOptimizers, noDecayNames, type OptimizerSettings } from "./model/configure-optimizers.js";
export { type DecoderOptions, type KVCache, LlamaForCausalLM, LlamaModel } from "./model/llama.js";
export { VisionTransformer } from "./model/vision.js";
export { type ModelInputs, VlmForConditionalGeneration } from "./model/vlm-model.js";
export { FORMAT_TOKENS, SPECIAL_TOKENS, type TrainBpeOptions, trainBpe } from "./tokenizer/bpe-trainer.js";
export { type ChatTurn, VlmTokenizer } from "./tokenizer/tokenizer.js";
export { answerMatches, type Validation, validate } from "./train/evaluate.js";
export {
  corpusOf,
  encodeExamples,
  encodeVerifyExamples,
  epochBatches,
  goldResponse,
  objectTokens,
  type TrainExample,
  trainingChat,
  verifyChat,
  verifySampleIndices,
} from "./train/examples.js";
export {
  loadOptimizerState,
  optimizerStateFiles,
  type ResumePoint,
  trainingOptimizer,
} from "./train/optimizer-state.js";
export {
  DEFAULT_TRAINING,
  type OptimizationConfig,
  resolveModelConfig,
  type SftConfigFile,
  type SftLogRow,
  type SftOptions,
  type SftResult,
  type SftTrainingConfig,
  trainSft,
} from "./train/sft.js";
export { backwardLoss, clipGradients } from "./train/training-step.js";
export {
  type AttributeClasses,
  attributeClasses,
  cellGrid,
  type LabelledImage,
  PATCH_ATTRIBUTES,
  type PatchLabels,
  patchLabels,
  pretrainVision,
  type VisionPretrainOptions,
  type VisionPretrainRow,
} from "./train/vision-pretrain.js";
export {
  type LogProbRequest,
  type SequenceLogProbs,
  type TokenLogProbs,
  type TrainingState,
  VLM,
  type VlmGenerateOptions,
  type VlmGeneration,
} from "./vlm.js";
