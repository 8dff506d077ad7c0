// torch.optim: optimizers, gradient clipping, learning-rate schedules.

export { AdamW, type AdamWOptions } from "./adamw.js";
export { clipGradNorm } from "./clip.js";
export { ExponentialMovingAverage } from "./ema.js";
export {
  flattenState,
  Optimizer,
  type OptimizerState,
  type ParamGroup,
  type ParamState,
  type ParamsArg,
  unflattenState,
} from "./optimizer.js";
export { constant, LambdaLR, type Schedule, warmupCosine, warmupLinear } from "./schedule.js";
export { SGD, type SGDOptions } from "./sgd.js";
