// The standard layers, constructed as in PyTorch.
import type { DType } from "../backend/backend.js";
import { resolveBackend } from "../device.js";
import { empty, isFloat } from "../ops/core.js";
import { dropout, embedding, layerNorm, linear, rmsNorm } from "../ops/index.js";
import { type Generator, resolveGenerator } from "../random.js";
import { fmtShape, type Tensor } from "../tensor.js";
import { constant, normal, uniform } from "./init.js";
import { asParameter, Module } from "./module.js";

/** Options shared by layer constructors. */
export interface LayerOptions {
  dtype?: DType;
  device?: string;
  /** Seed or generator for the initial weights (the global generator otherwise). */
  seed?: number;
  generator?: Generator;
  /**
   * Leave the weights uninitialised for a caller that fills them (torch.nn.utils.skip_init): no
   * random draws, the global generator untouched.
   */
  skipInit?: boolean;
}

/** Returns a new leaf parameter tensor of shape (uninitialised; callers fill it). */
export function parameter(shape: number[], opts: LayerOptions = {}): Tensor {
  const dtype = opts.dtype ?? "float32";
  if (!isFloat(dtype)) throw new Error(`parameter: dtype must be float, got ${dtype}`);
  return asParameter(empty(shape, dtype, resolveBackend(opts.device)));
}

/** y = x·Wᵀ + b, W [outFeatures, inFeatures], initialised U(±1/√inFeatures) as PyTorch does. */
export class Linear extends Module {
  weight: Tensor;
  bias: Tensor | null;
  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    opts: LayerOptions & { bias?: boolean } = {},
  ) {
    super();
    const g = resolveGenerator(opts.seed, opts.generator);
    const bound = inFeatures > 0 ? 1 / Math.sqrt(inFeatures) : 0;
    const init = (t: Tensor) => (opts.skipInit ? t : uniform(t, -bound, bound, { generator: g }));
    this.weight = init(parameter([outFeatures, inFeatures], opts));
    this.bias = opts.bias === false ? null : init(parameter([outFeatures], opts));
  }
  /** Returns x·Wᵀ + b over the last dim of x. */
  forward(x: Tensor): Tensor {
    if (x.shape[x.ndim - 1] !== this.inFeatures) {
      throw new Error(
        `Linear(${this.inFeatures}, ${this.outFeatures}): input ${fmtShape(x.shape)} does not end in ${this.inFeatures}`,
      );
    }
    return linear(x, this.weight, this.bias);
  }
}

/** A lookup table of numEmbeddings vectors of size embeddingDim, initialised N(0, 1). */
export class Embedding extends Module {
  weight: Tensor;
  constructor(
    readonly numEmbeddings: number,
    readonly embeddingDim: number,
    opts: LayerOptions = {},
  ) {
    super();
    const weight = parameter([numEmbeddings, embeddingDim], opts);
    this.weight = opts.skipInit ? weight : normal(weight, 0, 1, opts);
  }
  /** Returns the rows at int32 ids: [...ids.shape, embeddingDim]. */
  forward(ids: Tensor): Tensor {
    return embedding(ids, this.weight);
  }
}

/** LayerNorm over the trailing normalizedShape, with weight 1 and bias 0 to start. */
export class LayerNorm extends Module {
  weight: Tensor | null;
  bias: Tensor | null;
  readonly normalizedShape: number[];
  constructor(
    normalizedShape: number | number[],
    readonly eps = 1e-5,
    opts: LayerOptions & { elementwiseAffine?: boolean; bias?: boolean } = {},
  ) {
    super();
    this.normalizedShape = typeof normalizedShape === "number" ? [normalizedShape] : normalizedShape;
    const affine = opts.elementwiseAffine !== false;
    this.weight = affine ? constant(parameter(this.normalizedShape, opts), 1) : null;
    this.bias = affine && opts.bias !== false ? constant(parameter(this.normalizedShape, opts), 0) : null;
  }
  /** Returns the normalised x. */
  forward(x: Tensor): Tensor {
    return layerNorm(x, this.normalizedShape, this.weight, this.bias, this.eps);
  }
}

/** RMSNorm over the trailing normalizedShape, weight 1 to start. */
export class RMSNorm extends Module {
  weight: Tensor | null;
  readonly normalizedShape: number[];
  constructor(
    normalizedShape: number | number[],
    readonly eps = 1e-6,
    opts: LayerOptions & { elementwiseAffine?: boolean } = {},
  ) {
    super();
    this.normalizedShape = typeof normalizedShape === "number" ? [normalizedShape] : normalizedShape;
    this.weight =
      opts.elementwiseAffine === false ? null : constant(parameter(this.normalizedShape, opts), 1);
  }
  /** Returns the normalised x. */
  forward(x: Tensor): Tensor {
    return rmsNorm(x, this.normalizedShape, this.weight, this.eps);
  }
}

/** Dropout with its own seeded generator; the identity in eval mode. */
export class Dropout extends Module {
  private readonly generator: Generator;
  constructor(
    readonly p = 0.5,
    opts: { seed?: number; generator?: Generator } = {},
  ) {
    super();
    this.generator = resolveGenerator(opts.seed, opts.generator);
  }
  /** Returns x with dropout applied in training mode. */
  forward(x: Tensor): Tensor {
    return dropout(x, this.p, { training: this.training, generator: this.generator });
  }
}

/** Modules applied in order. */
export class Sequential extends Module {
  readonly layers: Module[];
  constructor(...layers: Module[]) {
    super();
    this.layers = layers;
  }
  /** Returns the output of the last module; intermediate outputs are disposed. */
  forward(x: Tensor): Tensor {
    let h = x;
    for (const layer of this.layers) {
      const next = layer.forward(h) as Tensor;
      if (h !== x) h.dispose();
      h = next;
    }
    return h === x ? x.mul(1) : h;
  }
  override namedChildren(): [string, Module][] {
    return this.layers.map((m, i) => [String(i), m]);
  }
}

/** The SwiGLU feed-forward block of Llama: downProj(silu(gateProj x) · upProj x), no biases by default. */
export class SwiGLU extends Module {
  gateProj: Linear;
  upProj: Linear;
  downProj: Linear;
  constructor(dim: number, hiddenDim: number, opts: LayerOptions & { bias?: boolean } = {}) {
    super();
    const g = resolveGenerator(opts.seed, opts.generator);
    const o = { ...opts, bias: opts.bias ?? false, generator: g, seed: undefined };
    this.gateProj = new Linear(dim, hiddenDim, o);
    this.upProj = new Linear(dim, hiddenDim, o);
    this.downProj = new Linear(hiddenDim, dim, o);
  }
  /** Returns the block's output (same shape as x). */
  forward(x: Tensor): Tensor {
    const gate = this.gateProj.forward(x);
    const act = gate.silu();
    const up = this.upProj.forward(x);
    const h = act.mul(up);
    const out = this.downProj.forward(h);
    for (const t of [gate, act, up, h]) t.dispose();
    return out;
  }
}

/** max(x, 0) as a module. */
export class ReLU extends Module {
  /** Returns relu(x). */
  forward(x: Tensor): Tensor {
    return x.relu();
  }
}
/** tanh as a module. */
export class Tanh extends Module {
  /** Returns tanh(x). */
  forward(x: Tensor): Tensor {
    return x.tanh();
  }
}
/** The logistic sigmoid as a module. */
export class Sigmoid extends Module {
  /** Returns sigmoid(x). */
  forward(x: Tensor): Tensor {
    return x.sigmoid();
  }
}
/** GELU (exact or "tanh") as a module. */
export class GELU extends Module {
  constructor(readonly approximate: "none" | "tanh" = "none") {
    super();
  }
  /** Returns gelu(x). */
  forward(x: Tensor): Tensor {
    return x.gelu(this.approximate);
  }
}
/** SiLU as a module. */
export class SiLU extends Module {
  /** Returns silu(x). */
  forward(x: Tensor): Tensor {
    return x.silu();
  }
}
