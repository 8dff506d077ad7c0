// The language tower: a Llama decoder (RMSNorm, rotary position embeddings in Hugging Face's
// rotate-half convention, grouped-query attention, SwiGLU MLP, optional tied embeddings), with
// Hugging Face's parameter names so a Llama checkpoint of matching shape loads into it.
import type { Rng } from "@sr2se/core";
import { cat, nn, rope, scaledDotProductAttention, type Tensor, zeros } from "@sr2se/tensor";
import { type TextConfig, textHeadDim } from "../config.js";
import { initEmbedding, initLinear } from "./init.js";

/** Keys and values of earlier positions, one entry a layer: [B, num_key_value_heads, past, head_dim]. */
export type KVCache = { k: Tensor; v: Tensor }[];

/** What the decoder needs besides its input embeddings. */
export interface DecoderOptions {
  /** Position of the first input token (the cache length when decoding with a cache). */
  start?: number;
  /** Keys/values of earlier positions; the new ones are appended to it in place of the old entries. */
  cache?: KVCache;
  /** Additive mask broadcast to [B, heads, L, keys] (padding, unused cache slots), on top of causal masking. */
  mask?: Tensor | null;
  /**
   * Fixed cache length: the prefill stores keys/values padded to it, and each later step writes
   * its keys/values into slots `start…` instead of growing the cache, so every step has the same
   * shapes (and the backend reuses its buffers); masking the unused slots is the caller's.
   */
  capacity?: number;
}

/** Grouped-query self-attention with rotary position embeddings. */
class LlamaAttention extends nn.Module {
  readonly q_proj: nn.Linear;
  readonly k_proj: nn.Linear;
  readonly v_proj: nn.Linear;
  readonly o_proj: nn.Linear;
  readonly headDim: number;
  constructor(
    readonly c: TextConfig,
    rng: Rng,
  ) {
    super();
    const e = c.hidden_size;
    const d = textHeadDim(c);
    this.headDim = d;
    this.q_proj = initLinear(e, c.num_attention_heads * d, rng);
    this.k_proj = initLinear(e, c.num_key_value_heads * d, rng);
    this.v_proj = initLinear(e, c.num_key_value_heads * d, rng);
    this.o_proj = initLinear(c.num_attention_heads * d, e, rng, {
      std: 0.02 / Math.sqrt(2 * c.num_hidden_layers),
    });
  }
  /** Returns attention output [B, L, hidden] of x [B, L, hidden]; appends this layer's keys/values to `cache[layer]`. */
  forward(x: Tensor, layer: number, opts: DecoderOptions): Tensor {
    const [B, L] = x.shape;
    const d = this.headDim;
    const start = opts.start ?? 0;
    const heads = (t: Tensor, h: number) => t.reshape([B, L, h, d]).transpose(1, 2);
    const q = rope(heads(this.q_proj.forward(x), this.c.num_attention_heads), start, {
      base: this.c.rope_theta,
    });
    let k = rope(heads(this.k_proj.forward(x), this.c.num_key_value_heads), start, {
      base: this.c.rope_theta,
    });
    let v = heads(this.v_proj.forward(x), this.c.num_key_value_heads);
    const cache = opts.cache;
    if (cache) {
      const past = cache[layer];
      const cap = opts.capacity;
      if (!past) {
        const fit = (t: Tensor) =>
          cap && cap > L ? cat([t, zeros([B, t.shape[1], cap - L, d])], 2) : t.contiguous();
        cache[layer] = { k: fit(k), v: fit(v) };
      } else if (cap) {
        // write the new token's keys/values into slot `start` (copies run as fast row copies)
        const into = (old: Tensor, cur: Tensor) =>
          cat(
            [
              ...(start > 0 ? [old.narrow(2, 0, start)] : []),
              cur,
              ...(start + L < cap ? [old.narrow(2, start + L, cap - start - L)] : []),
            ],
            2,
          );
        k = into(past.k, k);
        v = into(past.v, v);
        cache[layer] = { k, v };
      } else {
        k = cat([past.k, k], 2);
        v = cat([past.v, v], 2);
        cache[layer] = { k, v };
      }
    }
    const o = scaledDotProductAttention(q, k, v, { isCausal: true, attnMask: opts.mask ?? null });
    return this.o_proj.forward(o.transpose(1, 2).reshape([B, L, this.c.num_attention_heads * d]));
  }
}

/** SwiGLU: down(silu(gate(x)) · up(x)). */
class LlamaMLP extends nn.Module {
  readonly gate_proj: nn.Linear;
  readonly up_proj: nn.Linear;
  readonly down_proj: nn.Linear;
  constructor(c: TextConfig, rng: Rng) {
    super();
    this.gate_proj = initLinear(c.hidden_size, c.intermediate_size, rng);
    this.up_proj = initLinear(c.hidden_size, c.intermediate_size, rng);
    this.down_proj = initLinear(c.intermediate_size, c.hidden_size, rng, {
      std: 0.02 / Math.sqrt(2 * c.num_hidden_layers),
    });
  }
  /** Returns the MLP of x over its last dim. */
  forward(x: Tensor): Tensor {
    return this.down_proj.forward(this.gate_proj.forward(x).silu().mul(this.up_proj.forward(x)));
  }
}

/** A pre-norm decoder block: x + attn(norm(x)), then x + mlp(norm(x)). */
class LlamaDecoderLayer extends nn.Module {
  readonly input_layernorm: nn.RMSNorm;
  readonly self_attn: LlamaAttention;
  readonly post_attention_layernorm: nn.RMSNorm;
  readonly mlp: LlamaMLP;
  constructor(
    c: TextConfig,
    readonly index: number,
    rng: Rng,
  ) {
    super();
    this.input_layernorm = new nn.RMSNorm(c.hidden_size, c.rms_norm_eps);
    this.self_attn = new LlamaAttention(c, rng);
    this.post_attention_layernorm = new nn.RMSNorm(c.hidden_size, c.rms_norm_eps);
    this.mlp = new LlamaMLP(c, rng);
  }
  /** Returns the block applied to x [B, L, hidden]. */
  forward(x: Tensor, opts: DecoderOptions): Tensor {
    const h = x.add(this.self_attn.forward(this.input_layernorm.forward(x), this.index, opts));
    return h.add(this.mlp.forward(this.post_attention_layernorm.forward(h)));
  }
}

/** The decoder stack (Hugging Face's LlamaModel): embed_tokens, layers, final norm. */
export class LlamaModel extends nn.Module {
  readonly embed_tokens: nn.Embedding;
  readonly layers: LlamaDecoderLayer[];
  readonly norm: nn.RMSNorm;
  constructor(c: TextConfig, rng: Rng) {
    super();
    this.embed_tokens = initEmbedding(c.vocab_size, c.hidden_size, rng);
    this.layers = Array.from({ length: c.num_hidden_layers }, (_, i) => new LlamaDecoderLayer(c, i, rng));
    this.norm = new nn.RMSNorm(c.hidden_size, c.rms_norm_eps);
  }
  /** Returns the final normalized hidden states [B, L, hidden] of input embeddings [B, L, hidden]. */
  forward(inputsEmbeds: Tensor, opts: DecoderOptions = {}): Tensor {
    let x = inputsEmbeds;
    for (const layer of this.layers) x = layer.forward(x, opts);
    return this.norm.forward(x);
  }
}

/** Hugging Face's LlamaForCausalLM: the decoder and a language-model head (or the tied embedding). */
export class LlamaForCausalLM extends nn.Module {
  readonly model: LlamaModel;
  readonly lm_head: nn.Linear | null;
  constructor(
    readonly c: TextConfig,
    rng: Rng,
  ) {
    super();
    this.model = new LlamaModel(c, rng);
    this.lm_head = c.tie_word_embeddings ? null : initLinear(c.hidden_size, c.vocab_size, rng);
  }
  /** Returns the final normalized hidden states of input embeddings (the decoder stack). */
  forward(inputsEmbeds: Tensor, opts: DecoderOptions = {}): Tensor {
    return this.model.forward(inputsEmbeds, opts);
  }
  /** Returns next-token logits [..., vocab] of final hidden states [..., hidden]. */
  logits(hidden: Tensor): Tensor {
    return this.lm_head
      ? this.lm_head.forward(hidden)
      : hidden.matmul(this.model.embed_tokens.weight.transpose(0, 1));
  }
}
