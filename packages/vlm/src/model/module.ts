// The smallest module system a model file needs: named parameters in a tree (PyTorch's names, dotted
// paths), seeded initialization on the host, and the layers with parameters (Linear, Embedding, norms).
import { Rng } from "@sr2se/core";
import { embedding, layerNorm, linear, rmsNorm, type Tensor, tensor } from "@sr2se/tensor";

/** A tree of named parameters, as torch.nn.Module. */
export class Module {
  private readonly params = new Map<string, Tensor>();
  private readonly children = new Map<string, Module>();

  /** Registers a parameter under `name` and returns it. */
  protected param(name: string, t: Tensor): Tensor {
    t.requiresGrad = true;
    this.params.set(name, t);
    return t;
  }

  /** Registers a submodule under `name` and returns it. */
  protected child<M extends Module>(name: string, m: M): M {
    this.children.set(name, m);
    return m;
  }

  /** Returns every parameter with its dotted path, in registration order. */
  namedParameters(prefix = ""): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [n, t] of this.params) out.push([prefix + n, t]);
    for (const [n, m] of this.children) out.push(...m.namedParameters(`${prefix}${n}.`));
    return out;
  }

  /** Returns every parameter, in registration order. */
  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }
}

/** Overwrites a tensor's elements in place from host data of the same size (PyTorch's `copy_`). */
export function copyInto(t: Tensor, data: Float32Array): void {
  if (data.length !== t.size) throw new Error(`copyInto: ${data.length} values for a tensor of ${t.size}`);
  t.backend.write(t._view("copyInto").buffer, data);
}

/** Returns a float32 parameter tensor drawn from N(0, std²) with a seeded generator (std 0: zeros, fill: constant). */
export function initTensor(shape: number[], rng: Rng, std: number, fill = 0): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  if (std > 0) for (let i = 0; i < n; i++) data[i] = rng.normal(0, std);
  else if (fill !== 0) data.fill(fill);
  return tensor(data, { shape });
}

/** y = x·Wᵀ + b with W [out, in] (torch.nn.Linear). */
export class Linear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  constructor(
    inFeatures: number,
    outFeatures: number,
    rng: Rng,
    opts: { bias?: boolean; std?: number } = {},
  ) {
    super();
    this.weight = this.param("weight", initTensor([outFeatures, inFeatures], rng, opts.std ?? 0.02));
    this.bias = opts.bias ? this.param("bias", initTensor([outFeatures], rng, 0)) : null;
  }
  /** Returns the affine map of x over its last dim. */
  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }
}

/** A lookup table of token vectors (torch.nn.Embedding). */
export class Embedding extends Module {
  readonly weight: Tensor;
  constructor(num: number, dim: number, rng: Rng, std = 0.02) {
    super();
    this.weight = this.param("weight", initTensor([num, dim], rng, std));
  }
  /** Returns the rows of the table at int32 ids: [..., dim]. */
  forward(ids: Tensor): Tensor {
    return embedding(ids, this.weight);
  }
}

/** Root-mean-square normalization with a learned scale (Llama's RMSNorm). */
export class RMSNorm extends Module {
  readonly weight: Tensor;
  constructor(
    readonly dim: number,
    readonly eps: number,
  ) {
    super();
    this.weight = this.param("weight", initTensor([dim], new Rng(0), 0, 1));
  }
  /** Returns x / √(mean(x²) + eps) · weight over the last dim. */
  forward(x: Tensor): Tensor {
    return rmsNorm(x, this.dim, this.weight, this.eps);
  }
}

/** Layer normalization with learned scale and shift (torch.nn.LayerNorm). */
export class LayerNorm extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor;
  constructor(
    readonly dim: number,
    readonly eps: number,
  ) {
    super();
    this.weight = this.param("weight", initTensor([dim], new Rng(0), 0, 1));
    this.bias = this.param("bias", initTensor([dim], new Rng(0), 0));
  }
  /** Returns (x − mean) / √(var + eps) · weight + bias over the last dim. */
  forward(x: Tensor): Tensor {
    return layerNorm(x, this.dim, this.weight, this.bias, this.eps);
  }
}

/** Submodules registered under their index ("0", "1", …), as torch.nn.ModuleList. */
export class ModuleList<M extends Module> extends Module {
  constructor(readonly items: M[]) {
    super();
    for (const [i, m] of items.entries()) this.child(String(i), m);
  }
}

/** Submodules registered under their keys, as torch.nn.ModuleDict (a level of naming only). */
export class ModuleDict extends Module {
  constructor(items: Record<string, Module>) {
    super();
    for (const [k, m] of Object.entries(items)) this.child(k, m);
  }
}
