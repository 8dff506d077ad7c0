// @sr2se/vlm: a compact LLaVA-style vision-language model on @sr2se/tensor.
export { type TextConfig, type VisionConfig, type VlmConfig, defaultConfig, numImageTokens, textHeadDim, validateConfig } from "./config.js";
export { type CheckpointFiles, readCheckpoint, writeCheckpoint } from "./checkpoint/checkpoint.js";
export { type HostTensor, parseSafetensors, readSafetensors, serializeSafetensors, writeSafetensors } from "./checkpoint/safetensors.js";
export { loadLlamaWeights, loadStateDict, stateDict } from "./checkpoint/weights.js";
export { type CollatedBatch, type SequenceInput, collate } from "./data/batch.js";
export { type EncodedExample, IGNORE_INDEX, encodeChat, encodePrompt } from "./data/encode.js";
export { preprocessImage, preprocessImages } from "./data/images.js";
export { type DecodeOptions, type DecodedSequence, decode } from "./generation/generate.js";
export { type SamplingOptions, sampleToken } from "./generation/sampling.js";
export { type DecoderOptions, type KVCache, LlamaForCausalLM, LlamaModel } from "./model/llama.js";
export { Module } from "./model/module.js";
export { VisionTransformer } from "./model/vision.js";
export { type ModelInputs, VlmForConditionalGeneration } from "./model/vlm-model.js";
export { FORMAT_TOKENS, SPECIAL_TOKENS, type TrainBpeOptions, trainBpe } from "./tokenizer/bpe-trainer.js";
export { type ChatTurn, VlmTokenizer } from "./tokenizer/tokenizer.js";
export { type LogProbRequest, type SequenceLogProbs, type TrainingState, VLM, type VlmGenerateOptions, type VlmGeneration } from "./vlm.js";
