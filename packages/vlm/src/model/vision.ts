// The vision tower: a ViT. Images are cut into patches, each patch is a token (a linear patch
// embedding plus a learned position embedding), and pre-norm transformer blocks mix them.
import type { Rng } from "@sr2se/core";
import { patchify, scaledDotProductAttention, type Tensor } from "@sr2se/tensor";
import type { VisionConfig } from "../config.js";
import { Embedding, LayerNorm, Linear, Module, ModuleDict, ModuleList } from "./module.js";

/** Patch embedding (a linear map of each flattened C·p·p patch) and learned position embeddings. */
class VisionEmbeddings extends Module {
  readonly patch_embedding: Linear;
  readonly position_embedding: Embedding;
  constructor(
    readonly c: VisionConfig,
    rng: Rng,
  ) {
    super();
    const patchDim = c.num_channels * c.patch_size * c.patch_size;
    this.patch_embedding = this.child(
      "patch_embedding",
      new Linear(patchDim, c.hidden_size, rng, { bias: true }),
    );
    const n = (c.image_size / c.patch_size) ** 2;
    this.position_embedding = this.child("position_embedding", new Embedding(n, c.hidden_size, rng));
  }
  /** Returns patch tokens [B, N, hidden] of pixel values [B, C, H, W]. */
  forward(pixels: Tensor): Tensor {
    return this.patch_embedding
      .forward(patchify(pixels, this.c.patch_size))
      .add(this.position_embedding.weight);
  }
}

/** Bidirectional multi-head self-attention over patch tokens. */
class VisionAttention extends Module {
  readonly q_proj: Linear;
  readonly k_proj: Linear;
  readonly v_proj: Linear;
  readonly out_proj: Linear;
  constructor(
    readonly c: VisionConfig,
    rng: Rng,
  ) {
    super();
    const e = c.hidden_size;
    this.q_proj = this.child("q_proj", new Linear(e, e, rng, { bias: true }));
    this.k_proj = this.child("k_proj", new Linear(e, e, rng, { bias: true }));
    this.v_proj = this.child("v_proj", new Linear(e, e, rng, { bias: true }));
    this.out_proj = this.child(
      "out_proj",
      new Linear(e, e, rng, { bias: true, std: 0.02 / Math.sqrt(2 * c.num_hidden_layers) }),
    );
  }
  /** Returns attention output [B, N, hidden] of x [B, N, hidden]. */
  forward(x: Tensor): Tensor {
    const [B, N, E] = x.shape;
    const H = this.c.num_attention_heads;
    const heads = (t: Tensor) => t.reshape([B, N, H, E / H]).transpose(1, 2);
    const o = scaledDotProductAttention(
      heads(this.q_proj.forward(x)),
      heads(this.k_proj.forward(x)),
      heads(this.v_proj.forward(x)),
    );
    return this.out_proj.forward(o.transpose(1, 2).reshape([B, N, E]));
  }
}

/** fc1 → GELU (tanh) → fc2. */
class VisionMLP extends Module {
  readonly fc1: Linear;
  readonly fc2: Linear;
  constructor(c: VisionConfig, rng: Rng) {
    super();
    this.fc1 = this.child("fc1", new Linear(c.hidden_size, c.intermediate_size, rng, { bias: true }));
    this.fc2 = this.child(
      "fc2",
      new Linear(c.intermediate_size, c.hidden_size, rng, {
        bias: true,
        std: 0.02 / Math.sqrt(2 * c.num_hidden_layers),
      }),
    );
  }
  /** Returns the MLP of x over its last dim. */
  forward(x: Tensor): Tensor {
    return this.fc2.forward(this.fc1.forward(x).gelu("tanh"));
  }
}

/** A pre-norm transformer block: x + attn(norm(x)), then x + mlp(norm(x)). */
class VisionEncoderLayer extends Module {
  readonly layer_norm1: LayerNorm;
  readonly self_attn: VisionAttention;
  readonly layer_norm2: LayerNorm;
  readonly mlp: VisionMLP;
  constructor(c: VisionConfig, rng: Rng) {
    super();
    this.layer_norm1 = this.child("layer_norm1", new LayerNorm(c.hidden_size, c.layer_norm_eps));
    this.self_attn = this.child("self_attn", new VisionAttention(c, rng));
    this.layer_norm2 = this.child("layer_norm2", new LayerNorm(c.hidden_size, c.layer_norm_eps));
    this.mlp = this.child("mlp", new VisionMLP(c, rng));
  }
  /** Returns the block applied to x [B, N, hidden]. */
  forward(x: Tensor): Tensor {
    const h = x.add(this.self_attn.forward(this.layer_norm1.forward(x)));
    return h.add(this.mlp.forward(this.layer_norm2.forward(h)));
  }
}

/** The ViT: embeddings → blocks → final LayerNorm; one output token per patch. */
export class VisionTransformer extends Module {
  readonly embeddings: VisionEmbeddings;
  readonly layers: VisionEncoderLayer[] = [];
  readonly post_layernorm: LayerNorm;
  constructor(c: VisionConfig, rng: Rng) {
    super();
    this.embeddings = this.child("embeddings", new VisionEmbeddings(c, rng));
    for (let i = 0; i < c.num_hidden_layers; i++) this.layers.push(new VisionEncoderLayer(c, rng));
    this.child("encoder", new ModuleDict({ layers: new ModuleList(this.layers) }));
    this.post_layernorm = this.child("post_layernorm", new LayerNorm(c.hidden_size, c.layer_norm_eps));
  }
  /** Returns image features [B, N, hidden] of pixel values [B, C, H, W]. */
  forward(pixels: Tensor): Tensor {
    let x = this.embeddings.forward(pixels);
    for (const layer of this.layers) x = layer.forward(x);
    return this.post_layernorm.forward(x);
  }
}
