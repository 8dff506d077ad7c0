// A small decoder-only transformer language model (Llama-style: pre-norm RMSNorm, rotary causal
// attention with grouped-query heads, SwiGLU). The reference model of the benchmark and the
// end-to-end tests; nanoGPT's model.py is the shape to read it in.
import { cat, crossEntropy, reshape, rope, scaledDotProductAttention } from "../ops/index.js";
import { resolveGenerator } from "../random.js";
import type { Tensor } from "../tensor.js";
import { Embedding, type LayerOptions, Linear, RMSNorm, SwiGLU } from "./layers.js";
import { Module } from "./module.js";

/** Sizes of a TransformerLM. */
export interface TransformerConfig {
  vocabSize: number;
  dModel: number;
  nLayers: number;
  nHeads: number;
  /** Key/value heads (grouped-query attention); nHeads when omitted. */
  nKvHeads?: number;
  ffnHidden: number;
  ropeBase?: number;
}

/** A key/value cache for one layer: k and v [B, Hkv, Lpast, Dh]. */
export interface KVCache {
  k: Tensor;
  v: Tensor;
}

/** Multi-head causal self-attention with rotary embeddings and optional grouped-query heads. */
export class CausalSelfAttention extends Module {
  qProj: Linear;
  kProj: Linear;
  vProj: Linear;
  oProj: Linear;
  readonly nHeads: number;
  readonly nKvHeads: number;
  readonly headDim: number;
  readonly ropeBase: number;
  constructor(cfg: TransformerConfig, opts: LayerOptions = {}) {
    super();
    this.nHeads = cfg.nHeads;
    this.nKvHeads = cfg.nKvHeads ?? cfg.nHeads;
    this.headDim = cfg.dModel / cfg.nHeads;
    this.ropeBase = cfg.ropeBase ?? 10000;
    const o = { ...opts, bias: false };
    this.qProj = new Linear(cfg.dModel, cfg.nHeads * this.headDim, o);
    this.kProj = new Linear(cfg.dModel, this.nKvHeads * this.headDim, o);
    this.vProj = new Linear(cfg.dModel, this.nKvHeads * this.headDim, o);
    this.oProj = new Linear(cfg.nHeads * this.headDim, cfg.dModel, o);
  }
  /** Returns the attention output for x [B, L, d] at positions start..start+L−1, extending cache when given. */
  forward(x: Tensor, start = 0, cache?: KVCache): Tensor {
    const [B, L] = x.shape;
    const heads = (t: Tensor, h: number) => reshape(t, [B, L, h, this.headDim]).transpose(1, 2);
    const q = rope(heads(this.qProj.forward(x), this.nHeads), start, { base: this.ropeBase });
    let k = rope(heads(this.kProj.forward(x), this.nKvHeads), start, { base: this.ropeBase });
    let v = heads(this.vProj.forward(x), this.nKvHeads);
    if (cache) {
      if (cache.k.shape[2] > 0) {
        k = cat([cache.k, k], 2);
        v = cat([cache.v, v], 2);
      }
      cache.k = k;
      cache.v = v;
    }
    const y = scaledDotProductAttention(q, k, v, { isCausal: true });
    return this.oProj.forward(reshape(y.transpose(1, 2), [B, L, this.nHeads * this.headDim]));
  }
}

/** One pre-norm block: x + attn(norm(x)), then + mlp(norm(x)). */
export class Block extends Module {
  attnNorm: RMSNorm;
  attn: CausalSelfAttention;
  mlpNorm: RMSNorm;
  mlp: SwiGLU;
  constructor(cfg: TransformerConfig, opts: LayerOptions = {}) {
    super();
    this.attnNorm = new RMSNorm(cfg.dModel, 1e-6, opts);
    this.attn = new CausalSelfAttention(cfg, opts);
    this.mlpNorm = new RMSNorm(cfg.dModel, 1e-6, opts);
    this.mlp = new SwiGLU(cfg.dModel, cfg.ffnHidden, opts);
  }
  /** Returns the block output. */
  forward(x: Tensor, start = 0, cache?: KVCache): Tensor {
    const h = x.add(this.attn.forward(this.attnNorm.forward(x), start, cache));
    return h.add(this.mlp.forward(this.mlpNorm.forward(h)));
  }
}

/**
 * A decoder-only language model. Call it inside `tidy` (intermediates are left to the scope);
 * `loss(ids, targets)` returns the mean next-token cross entropy.
 */
export class TransformerLM extends Module {
  embed: Embedding;
  layers: Block[];
  norm: RMSNorm;
  lmHead: Linear;
  constructor(
    readonly config: TransformerConfig,
    opts: LayerOptions = {},
  ) {
    super();
    const g = resolveGenerator(opts.seed, opts.generator);
    const o = { ...opts, seed: undefined, generator: g };
    this.embed = new Embedding(config.vocabSize, config.dModel, o);
    this.layers = Array.from({ length: config.nLayers }, () => new Block(config, o));
    this.norm = new RMSNorm(config.dModel, 1e-6, o);
    this.lmHead = new Linear(config.dModel, config.vocabSize, { ...o, bias: false });
  }
  /** Returns logits [B, L, vocab] for int32 ids [B, L] (positions start at `start`; caches extended when given). */
  forward(ids: Tensor, start = 0, caches?: KVCache[]): Tensor {
    let h = this.embed.forward(ids);
    this.layers.forEach((layer, i) => {
      h = layer.forward(h, start, caches?.[i]);
    });
    return this.lmHead.forward(this.norm.forward(h));
  }
  /** Returns the mean cross entropy of the logits for ids against targets (both int32 [B, L]). */
  loss(ids: Tensor, targets: Tensor): Tensor {
    const logits = this.forward(ids);
    const [B, L, V] = logits.shape;
    return crossEntropy(reshape(logits, [B * L, V]), reshape(targets, [B * L]));
  }
}
