// AdamW (decoupled weight decay, bias correction) with the moments on the host in float32, and
// global-norm gradient clipping. Host moments make the optimizer state trivially exact to save and
// resume; at this model size the update costs a few milliseconds.
import type { Tensor } from "@sr2se/tensor";
import type { HostTensor } from "../checkpoint/safetensors.js";
import { copyInto } from "../model/module.js";

/** AdamW hyper-parameters (PyTorch's names and defaults, except the weight decay). */
export interface AdamWOptions {
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
  /** Learning-rate multiplier of a parameter by name (default 1; 0 freezes it). */
  lrScale?: (name: string) => number;
}

/** AdamW over named parameters; parameters of one dimension (norms, biases) get no weight decay, as in nanoGPT. */
export class AdamW {
  private readonly m: Float32Array[];
  private readonly v: Float32Array[];
  private readonly values: Float32Array[] = [];
  /** Optimizer steps taken (for bias correction). */
  stepCount = 0;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  private readonly scales: number[];

  constructor(
    readonly params: [string, Tensor][],
    opts: AdamWOptions = {},
  ) {
    [this.beta1, this.beta2] = opts.betas ?? [0.9, 0.95];
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 0.1;
    this.scales = params.map(([name]) => opts.lrScale?.(name) ?? 1);
    this.m = params.map(([, p]) => new Float32Array(p.size));
    this.v = params.map(([, p]) => new Float32Array(p.size));
  }

  /** Returns every parameter's gradient on the host (zeros where a parameter got none). */
  async gradients(): Promise<Float32Array[]> {
    return Promise.all(
      this.params.map(async ([, p]) =>
        p.grad ? Float32Array.from(await p.grad.data()) : new Float32Array(p.size),
      ),
    );
  }

  /** Scales gradients in place so their global L2 norm is at most maxNorm; returns the norm before clipping. */
  static clipGradNorm(grads: Float32Array[], maxNorm: number): number {
    let sq = 0;
    for (const g of grads) for (let i = 0; i < g.length; i++) sq += g[i] * g[i];
    const norm = Math.sqrt(sq);
    if (maxNorm > 0 && norm > maxNorm) {
      const s = maxNorm / (norm + 1e-6);
      for (const g of grads) for (let i = 0; i < g.length; i++) g[i] *= s;
    }
    return norm;
  }

  /** Applies one update with learning rate lr from host gradients, writing the parameters back in place. */
  async step(grads: Float32Array[], lr: number): Promise<void> {
    if (this.values.length === 0)
      for (const [, p] of this.params) this.values.push(Float32Array.from(await p.data()));
    this.stepCount++;
    const { beta1: b1, beta2: b2, eps } = this;
    const c1 = 1 - b1 ** this.stepCount;
    const c2 = 1 - b2 ** this.stepCount;
    this.params.forEach(([, p], k) => {
      const plr = lr * this.scales[k];
      if (plr === 0) return;
      const w = this.values[k];
      const g = grads[k];
      const m = this.m[k];
      const v = this.v[k];
      const decay = p.ndim >= 2 ? 1 - plr * this.weightDecay : 1;
      for (let i = 0; i < w.length; i++) {
        m[i] = b1 * m[i] + (1 - b1) * g[i];
        v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
        w[i] = w[i] * decay - (plr * (m[i] / c1)) / (Math.sqrt(v[i] / c2) + eps);
      }
      copyInto(p, w);
    });
  }

  /** Drops every parameter's gradient. */
  zeroGrad(): void {
    for (const [, p] of this.params) {
      p.grad?.dispose();
      p.grad = null;
    }
  }

  /** Returns the moments as named tensors (`<param>.exp_avg`, `<param>.exp_avg_sq`). */
  stateDict(): Map<string, HostTensor> {
    const out = new Map<string, HostTensor>();
    this.params.forEach(([name, p], k) => {
      out.set(`${name}.exp_avg`, { dtype: "F32", shape: p.shape.slice(), data: this.m[k] });
      out.set(`${name}.exp_avg_sq`, { dtype: "F32", shape: p.shape.slice(), data: this.v[k] });
    });
    return out;
  }

  /** Restores moments saved by stateDict and the step count; errors name the missing tensor. */
  loadStateDict(state: Map<string, HostTensor>, stepCount: number, where: string): void {
    this.params.forEach(([name, p], k) => {
      for (const [suffix, dst] of [
        ["exp_avg", this.m[k]],
        ["exp_avg_sq", this.v[k]],
      ] as const) {
        const t = state.get(`${name}.${suffix}`);
        if (!t) throw new Error(`${where}: tensor "${name}.${suffix}" is missing`);
        if (t.data.length !== p.size)
          throw new Error(
            `${where}: tensor "${name}.${suffix}" has ${t.data.length} values, the parameter has ${p.size}`,
          );
        dst.set(t.data);
      }
    });
    this.stepCount = stepCount;
    this.values.length = 0;
  }
}
