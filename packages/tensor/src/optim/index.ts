// torch.optim: optimizers, gradient clipping, learning-rate schedules.
export { Optimizer, type OptimizerState, type ParamGroup, type ParamState, type ParamsArg } from "./optimizer.js";
export { SGD, type SGDOptions } from "./sgd.js";
export { AdamW, type AdamWOptions } from "./adamw.js";
export { clipGradNorm } from "./clip.js";
export { LambdaLR, type Schedule, constant, warmupCosine, warmupLinear } from "./schedule.js";
