// torch.nn: modules, layers and initializers.

export * as init from "./init.js";
export {
  Dropout,
  Embedding,
  GELU,
  LayerNorm,
  type LayerOptions,
  Linear,
  parameter,
  ReLU,
  RMSNorm,
  Sequential,
  Sigmoid,
  SiLU,
  SwiGLU,
  Tanh,
} from "./layers.js";
export { asParameter, isParameter, Module } from "./module.js";
export {
  Block,
  CausalSelfAttention,
  type KVCache,
  type TransformerConfig,
  TransformerLM,
} from "./transformer.js";
