// Global-norm gradient clipping (torch.nn.utils.clip_grad_norm_), computed on the device without a sync.
import { noGrad } from "../autograd.js";
import { keep, tidy } from "../memory.js";
import { sqrt, stack } from "../ops/index.js";
import type { Tensor } from "../tensor.js";

/**
 * Scales every gradient by min(1, maxNorm / (‖g‖ + 1e-6)) where ‖g‖ is the global L2 norm over all
 * parameters; returns that norm as a scalar tensor (await `.item()` to read it).
 */
export function clipGradNorm(params: Tensor[], maxNorm: number): Tensor {
  const withGrad = params.filter((p) => p.grad);
  if (withGrad.length === 0) throw new Error("clipGradNorm: no parameter has a gradient");
  return noGrad(() =>
    tidy(() => {
      const squares = withGrad.map((p) => p.grad!.square().sum());
      const total = sqrt(stack(squares).sum());
      const scale = total.add(1e-6).reciprocal().mul(maxNorm).clamp(undefined, 1);
      for (const p of withGrad) {
        const old = p.grad!;
        p.grad = keep(old.mul(scale.to(old.dtype)));
        old.dispose();
      }
      return total;
    }),
  );
}
