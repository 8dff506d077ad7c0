// SGD with momentum, dampening, Nesterov and L2 weight decay (torch.optim.SGD's algorithm).
import { noGrad } from "../autograd.js";
import { keep, tidy } from "../memory.js";
import type { Tensor } from "../tensor.js";
import { assign, defined, Optimizer, type ParamsArg } from "./optimizer.js";

/** Options of SGD. */
export interface SGDOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

/** Stochastic gradient descent. */
export class SGD extends Optimizer {
  constructor(params: ParamsArg, options: SGDOptions) {
    super(params, {
      momentum: 0,
      dampening: 0,
      weightDecay: 0,
      nesterov: false,
      ...defined(options),
      lr: options.lr,
    });
    if (options.nesterov && (!(options.momentum ?? 0) || (options.dampening ?? 0) !== 0)) {
      throw new Error("SGD: nesterov needs momentum > 0 and dampening 0");
    }
  }

  /** Applies one SGD update. */
  step(): void {
    noGrad(() => {
      for (const g of this.paramGroups) {
        const lr = g.lr;
        const momentum = g.momentum as number;
        const dampening = g.dampening as number;
        const wd = g.weightDecay as number;
        for (const p of g.params) {
          if (!p.grad) continue;
          const grad = p.grad;
          tidy(() => {
            let d: Tensor = wd !== 0 ? grad.add(p.mul(wd)) : grad;
            if (momentum !== 0) {
              const st = this.state.get(p);
              let buf: Tensor;
              if (!st) {
                buf = keep(d.clone());
                this.state.set(p, { step: 1, momentumBuffer: buf });
              } else {
                const old = st.momentumBuffer as Tensor;
                buf = keep(old.mul(momentum).add(d.mul(1 - dampening)));
                old.dispose();
                st.momentumBuffer = buf;
                st.step++;
              }
              d = g.nesterov ? d.add(buf.mul(momentum)) : buf;
            }
            assign(p, p.sub(d.mul(lr)));
          });
        }
      }
    });
  }
}
