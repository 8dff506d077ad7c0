// The optimizer of every trainer of the model, nanoGPT's `configure_optimizers`: AdamW with one
// parameter group per (weight decay, learning-rate scale). Matrices of Linear layers decay; biases,
// norm weights and embedding tables do not. A parameter whose scale is 0 is frozen: it stops
// recording gradients, so backward skips it and the global gradient norm leaves it out.
import { nn, optim, type Tensor } from "@sr2se/tensor";

/** What `configureOptimizers` takes: the peak learning rate, the decay, AdamW's moments. */
export interface OptimizerSettings {
  lr: number;
  weightDecay: number;
  /** AdamW's (β1, β2); default (0.9, 0.95) as in nanoGPT. */
  betas?: [number, number];
  eps?: number;
  /** Learning-rate multiplier of a parameter by its dotted name (default 1; 0 freezes it). */
  lrScale?: (name: string) => number;
}

/** Returns the names of the parameters that take no weight decay: biases, norm weights, embeddings. */
export function noDecayNames(model: nn.Module): Set<string> {
  const out = new Set<string>();
  for (const [prefix, m] of model.namedModules()) {
    const at = (k: string) => (prefix ? `${prefix}.${k}` : k);
    const whole = m instanceof nn.Embedding || m instanceof nn.LayerNorm || m instanceof nn.RMSNorm;
    for (const [k, p] of m.namedParameters()) {
      if (k.includes(".")) continue;
      if (whole || p.ndim < 2) out.add(at(k));
    }
  }
  return out;
}

/**
 * Returns AdamW over a model's parameters in groups of equal (weight decay, learning-rate scale),
 * each group's `lr` the peak rate times its scale (a LambdaLR schedule multiplies it), and freezes
 * the parameters whose scale is 0. Groups carry `name` ("decay", "no_decay", "decay@0.1", …).
 */
export function configureOptimizers(model: nn.Module, settings: OptimizerSettings): optim.AdamW {
  const noDecay = noDecayNames(model);
  const groups = new Map<string, { params: Tensor[]; lr: number; weightDecay: number; name: string }>();
  for (const [name, p] of model.namedParameters()) {
    const scale = settings.lrScale?.(name) ?? 1;
    if (!(scale >= 0)) throw new Error(`configureOptimizers: learning-rate scale of ${name} is ${scale}`);
    if (scale === 0) {
      p.grad?.dispose();
      p.grad = null;
      p.requiresGrad = false;
      continue;
    }
    p.requiresGrad = true;
    const decay = !noDecay.has(name);
    const key = `${decay ? "decay" : "no_decay"}${scale === 1 ? "" : `@${scale}`}`;
    let g = groups.get(key);
    if (!g) {
      g = { params: [], lr: settings.lr * scale, weightDecay: decay ? settings.weightDecay : 0, name: key };
      groups.set(key, g);
    }
    g.params.push(p);
  }
  if (groups.size === 0) throw new Error("configureOptimizers: every parameter is frozen");
  return new optim.AdamW([...groups.values()], {
    lr: settings.lr,
    betas: settings.betas ?? [0.9, 0.95],
    eps: settings.eps ?? 1e-8,
    weightDecay: settings.weightDecay,
  });
}
