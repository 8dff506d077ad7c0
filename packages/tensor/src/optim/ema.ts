// An exponential moving average of parameters, as torch.optim.swa_utils.AveragedModel keeps it with
// get_ema_multi_avg_fn(decay): after each optimizer step, average ← decay·average + (1 − decay)·param
// (PyTorch's `lerp_(param, 1 − decay)`). The averages start as copies of the parameters.
import { noGrad } from "../autograd.js";
import { tensor } from "../creation.js";
import { keep, tidy } from "../memory.js";
import type { Tensor } from "../tensor.js";
import { assign } from "./optimizer.js";

/** The running averages of a list of parameters. */
export class ExponentialMovingAverage {
  readonly decay: number;
  /** One average per parameter, in the order given. */
  readonly averages: Tensor[];
  /** Updates made (restored with `load`). */
  numUpdates = 0;
  private readonly params: readonly Tensor[];
  private disposed = false;

  constructor(params: readonly Tensor[], decay: number) {
    if (!(decay >= 0 && decay < 1))
      throw new Error(`ExponentialMovingAverage: decay must be in [0, 1), got ${decay}`);
    this.decay = decay;
    this.params = params;
    this.averages = noGrad(() => params.map((p) => keep(p.detach().clone())));
  }

  /** Moves every average toward its parameter's current value; call after `optimizer.step()`. */
  update(): void {
    this.check();
    const d = this.decay;
    noGrad(() => {
      for (let i = 0; i < this.params.length; i++) {
        const a = this.averages[i];
        const p = this.params[i];
        tidy(() => assign(a, a.mul(d).add(p.detach().mul(1 - d))));
      }
    });
    this.numUpdates++;
  }

  /** Replaces the averages with `values` (host arrays in parameter order, as a checkpoint holds them). */
  load(values: readonly ArrayLike<number>[], numUpdates: number): void {
    this.check();
    if (values.length !== this.averages.length)
      throw new Error(
        `ExponentialMovingAverage.load: ${values.length} arrays for ${this.averages.length} parameters`,
      );
    for (let i = 0; i < values.length; i++) {
      const a = this.averages[i];
      if (values[i].length !== a.size)
        throw new Error(
          `ExponentialMovingAverage.load: array ${i} has ${values[i].length} values, the parameter ${a.size}`,
        );
      const values64 = Float64Array.from(values[i]);
      noGrad(() =>
        tidy(() =>
          assign(a, tensor(values64, { shape: a.shape.slice(), dtype: a.dtype, device: a.backend })),
        ),
      );
    }
    this.numUpdates = numUpdates;
  }

  /** Copies the averages into the parameters (the averaged model, for evaluation or saving). */
  copyToParams(): void {
    this.check();
    noGrad(() => {
      for (let i = 0; i < this.params.length; i++) assign(this.params[i], this.averages[i]);
    });
  }

  /** Frees the averages. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const a of this.averages) a.dispose();
  }

  private check(): void {
    if (this.disposed) throw new Error("ExponentialMovingAverage: used after dispose()");
  }
}
