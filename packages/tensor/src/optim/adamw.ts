// AdamW (Loshchilov & Hutter): decoupled weight decay and bias-corrected moments, one fused backend
// kernel per parameter.
import { noGrad } from "../autograd.js";
import { zerosLike } from "../creation.js";
import { keep } from "../memory.js";
import { bufferOf } from "../ops/core.js";
import { fmtShape, type Tensor } from "../tensor.js";
import { defined, Optimizer, type ParamsArg } from "./optimizer.js";

/** Options of AdamW (PyTorch's defaults). */
export interface AdamWOptions {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
}

/** Adam with decoupled weight decay. */
export class AdamW extends Optimizer {
  constructor(params: ParamsArg, options: AdamWOptions = {}) {
    super(params, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 1e-2, ...defined(options) });
  }

  /** Applies one AdamW update to every parameter with a gradient. */
  step(): void {
    noGrad(() => {
      for (const g of this.paramGroups) {
        const [beta1, beta2] = g.betas as [number, number];
        for (const p of g.params) {
          const grad = p.grad;
          if (!grad) continue;
          if (grad.size !== p.size)
            throw new Error(
              `AdamW: gradient ${fmtShape(grad.shape)} does not match parameter ${fmtShape(p.shape)}`,
            );
          let st = this.state.get(p);
          if (!st) {
            st = {
              step: 0,
              expAvg: keep(zerosLike(p, { requiresGrad: false })),
              expAvgSq: keep(zerosLike(p, { requiresGrad: false })),
            };
            this.state.set(p, st);
          }
          st.step++;
          p.backend.adamw(
            bufferOf(p),
            grad._view("AdamW"),
            bufferOf(st.expAvg as Tensor),
            bufferOf(st.expAvgSq as Tensor),
            {
              lr: g.lr,
              beta1,
              beta2,
              eps: g.eps as number,
              weightDecay: g.weightDecay as number,
              step: st.step,
            },
          );
        }
      }
    });
  }
}
