// The vision tower: a ViT. Images are cut into patches, each patch is a token (a linear patch
// embedding plus a learned position embedding), and pre-norm transformer blocks mix them.
import type { Rng } from "@sr2se/core";
import { nn, patchify, scaledDotProductAttention, type Tensor } from "@sr2se/tensor";
import type { VisionConfig } from "../config.js";
import { initEmbedding, initLinear } from "./init.js";

/** Patch embedding (a linear map of each flattened C·p·p patch) and learned position embeddings. */
class VisionEmbeddings extends nn.Module {
  readonly patch_embedding: nn.Linear;
  readonly position_embedding: nn.Embedding;
  constructor(
    readonly c: VisionConfig,
    rng: Rng,
  ) {
    super();
    const patchDim = c.num_channels * c.patch_size * c.patch_size;
    this.patch_embedding = initLinear(patchDim, c.hidden_size, rng, { bias: true });
    const n = (c.image_size / c.patch_size) ** 2;
    this.position_embedding = initEmbedding(n, c.hidden_size, rng);
  }
  /** Returns patch tokens [B, N, hidden] of pixel values [B, C, H, W]. */
  forward(pixels: Tensor): Tensor {
    return this.patch_embedding
      .forward(patchify(pixels, this.c.patch_size))
      .add(this.position_embedding.weight);
  }
}

/** Bidirectional multi-head self-attention over patch tokens. */
class VisionAttention extends nn.Module {
  readonly q_proj: nn.Linear;
  readonly k_proj: nn.Linear;
  readonly v_proj: nn.Linear;
  readonly out_proj: nn.Linear;
  constructor(
    readonly c: VisionConfig,
    rng: Rng,
  ) {
    super();
    const e = c.hidden_size;
    this.q_proj = initLinear(e, e, rng, { bias: true });
    this.k_proj = initLinear(e, e, rng, { bias: true });
    this.v_proj = initLinear(e, e, rng, { bias: true });
    this.out_proj = initLinear(e, e, rng, { bias: true, std: 0.02 / Math.sqrt(2 * c.num_hidden_layers) });
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
class VisionMLP extends nn.Module {
  readonly fc1: nn.Linear;
  readonly fc2: nn.Linear;
  constructor(c: VisionConfig, rng: Rng) {
    super();
    this.fc1 = initLinear(c.hidden_size, c.intermediate_size, rng, { bias: true });
    this.fc2 = initLinear(c.intermediate_size, c.hidden_size, rng, {
      bias: true,
      std: 0.02 / Math.sqrt(2 * c.num_hidden_layers),
    });
  }
  /** Returns the MLP of x over its last dim. */
  forward(x: Tensor): Tensor {
    return this.fc2.forward(this.fc1.forward(x).gelu("tanh"));
  }
}

/** A pre-norm transformer block: x + attn(norm(x)), then x + mlp(norm(x)). */
class VisionEncoderLayer extends nn.Module {
  readonly layer_norm1: nn.LayerNorm;
  readonly self_attn: VisionAttention;
  readonly layer_norm2: nn.LayerNorm;
  readonly mlp: VisionMLP;
  constructor(c: VisionConfig, rng: Rng) {
    super();
    this.layer_norm1 = new nn.LayerNorm(c.hidden_size, c.layer_norm_eps);
    this.self_attn = new VisionAttention(c, rng);
    this.layer_norm2 = new nn.LayerNorm(c.hidden_size, c.layer_norm_eps);
    this.mlp = new VisionMLP(c, rng);
  }
  /** Returns the block applied to x [B, N, hidden]. */
  forward(x: Tensor): Tensor {
    const h = x.add(this.self_attn.forward(this.layer_norm1.forward(x)));
    return h.add(this.mlp.forward(this.layer_norm2.forward(h)));
  }
}

/** The stack of encoder blocks. */
class VisionEncoder extends nn.Module {
  readonly layers: VisionEncoderLayer[];
  constructor(c: VisionConfig, rng: Rng) {
    super();
    this.layers = Array.from({ length: c.num_hidden_layers }, () => new VisionEncoderLayer(c, rng));
  }
  /** Returns the blocks applied in order to x [B, N, hidden]. */
  forward(x: Tensor): Tensor {
    for (const layer of this.layers) x = layer.forward(x);
    return x;
  }
}

/** The ViT: embeddings → blocks → final LayerNorm; one output token per patch. */
export class VisionTransformer extends nn.Module {
  readonly embeddings: VisionEmbeddings;
  readonly encoder: VisionEncoder;
  readonly post_layernorm: nn.LayerNorm;
  constructor(c: VisionConfig, rng: Rng) {
    super();
    this.embeddings = new VisionEmbeddings(c, rng);
    this.encoder = new VisionEncoder(c, rng);
    this.post_layernorm = new nn.LayerNorm(c.hidden_size, c.layer_norm_eps);
  }
  /** Returns image features [B, N, hidden] of pixel values [B, C, H, W]. */
  forward(pixels: Tensor): Tensor {
    return this.post_layernorm.forward(this.encoder.forward(this.embeddings.forward(pixels)));
  }
}
