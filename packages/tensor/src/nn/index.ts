// torch.nn: modules, layers and initializers.
export { Module } from "./module.js";
export { Dropout, Embedding, LayerNorm, type LayerOptions, Linear, RMSNorm, Sequential, SwiGLU, parameter } from "./layers.js";
export * as init from "./init.js";
