// @sr2se/tensor: tensors, autograd, the CPU reference backend, nn, optim, safetensors.

import { runBackward } from "./gradients.js";
import * as ops from "./ops/index.js";
import { bindTensorOps } from "./tensor.js";

export { isGradEnabled, noGrad } from "./autograd.js";
export type {
  AdamWParams,
  AttentionOptions,
  Backend,
  BinaryOp,
  BufferHandle,
  DeviceName,
  DType,
  ReduceOp,
  TypedArray,
  UnaryOp,
  View,
} from "./backend/backend.js";
export { contiguousStrides, isContiguous, matrixLayout, numel } from "./backend/backend.js";
export { CpuBackend } from "./backend/cpu/index.js";
export { registerBackend, registeredBackends } from "./backend/registry.js";
export {
  autoDevice,
  chooseDevice,
  type DeviceChoice,
  type DeviceProbe,
  probeDevices,
} from "./backend/select.js";
export {
  arange,
  eye,
  full,
  ones,
  onesLike,
  type RandomOptions,
  rand,
  randint,
  randn,
  type TensorOptions,
  tensor,
  zeros,
  zerosLike,
} from "./creation.js";
export { defaultBackend, type InitOptions, init, resolveBackend } from "./device.js";
export { type GradcheckOptions, gradcheck } from "./gradcheck.js";
export * as io from "./io/index.js";
export { keep, memory, tidy } from "./memory.js";
export * as nn from "./nn/index.js";
export {
  type AttentionCallOptions,
  abs,
  add,
  argmax,
  argmin,
  type CrossEntropyOptions,
  cast,
  cat,
  chunk,
  clamp,
  contiguous,
  cos,
  crossEntropy,
  type DropoutOptions,
  div,
  dropout,
  embedding,
  eq,
  exp,
  expand,
  flatten,
  gather,
  ge,
  gelu,
  gt,
  indexSelect,
  layerNorm,
  le,
  linear,
  log,
  logicalAnd,
  logicalNot,
  logicalOr,
  logSigmoid,
  logSoftmax,
  logSumExp,
  lt,
  maskedFill,
  matmul,
  max,
  maximum,
  mean,
  min,
  minimum,
  mul,
  narrow,
  ne,
  neg,
  oneHot,
  patchify,
  permute,
  pow,
  type RopeOptions,
  reciprocal,
  relu,
  reshape,
  rmsNorm,
  rope,
  rsqrt,
  scaledDotProductAttention,
  scatterAdd,
  sigmoid,
  sign,
  silu,
  sin,
  softmax,
  softplus,
  split,
  sqrt,
  square,
  squeeze,
  stack,
  sub,
  sum,
  tanh,
  transpose,
  tril,
  triu,
  unsqueeze,
  variance as var,
  view,
  where,
} from "./ops/index.js";
export * as optim from "./optim/index.js";
export { Generator, manualSeed } from "./random.js";
export { type NestedArray, Tensor } from "./tensor.js";

// The entry binds the op table into the Tensor class: the entry always runs, so no bundler can drop
// the binding as an unused side effect.
bindTensorOps({ ...ops, runBackward });
