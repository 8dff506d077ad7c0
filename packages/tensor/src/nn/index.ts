// torch.nn: modules, layers and initializers.
export { Module } from "./module.js";
export {
  Dropout,
  Embedding,
  GELU,
  LayerNorm,
  type LayerOptions,
  Linear,
  RMSNorm,
  ReLU,
  Sequential,
  SiLU,
  Sigmoid,
  SwiGLU,
  Tanh,
  parameter,
} from "./layers.js";
export * as init from "./init.js";
export { Block, CausalSelfAttention, type KVCache, type TransformerConfig, TransformerLM } from "./transformer.js";
