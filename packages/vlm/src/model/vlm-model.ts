// The whole network, LLaVA's layout: vision_tower (a ViT) → multi_modal_projector (an MLP) →
// language_model (a Llama). The projected patch features replace the image-token positions of the
// token embeddings, so the decoder sees one sequence of text and image tokens.
import { Rng } from "@sr2se/core";
import { cat, nn, type Tensor, tensor } from "@sr2se/tensor";
import { numImageTokens, type VlmConfig } from "../config.js";
import { initLinear } from "./init.js";
import { type DecoderOptions, LlamaForCausalLM } from "./llama.js";
import { VisionTransformer } from "./vision.js";

/** Two linear layers with a GELU between, from vision width to text width. */
class MultiModalProjector extends nn.Module {
  readonly linear_1: nn.Linear;
  readonly linear_2: nn.Linear;
  constructor(c: VlmConfig, rng: Rng) {
    super();
    this.linear_1 = initLinear(c.vision_config.hidden_size, c.projector_hidden_size, rng, { bias: true });
    this.linear_2 = initLinear(c.projector_hidden_size, c.text_config.hidden_size, rng, { bias: true });
  }
  /** Returns text-width features of vision features. */
  forward(x: Tensor): Tensor {
    return this.linear_2.forward(this.linear_1.forward(x).gelu("tanh"));
  }
}

/** A batch of token sequences on the host, with the images whose features fill the image positions. */
export interface ModelInputs {
  /** Token ids [batch · length], row-major. */
  ids: Int32Array;
  batch: number;
  length: number;
  /** Pixel values [images, C, H, W], or null when no sequence has an image. */
  pixels: Tensor | null;
  /** Per position: −1 for a text token, else the row of the image features [images · tokens per image] it takes. */
  imageSlots: Int32Array;
}

/** The VLM network (LLaVA's LlavaForConditionalGeneration layout, Hugging Face parameter names). */
export class VlmForConditionalGeneration extends nn.Module {
  readonly vision_tower: VisionTransformer;
  readonly multi_modal_projector: MultiModalProjector;
  readonly language_model: LlamaForCausalLM;
  readonly imageTokens: number;

  constructor(
    readonly config: VlmConfig,
    seed = 0,
  ) {
    super();
    const rng = new Rng(seed);
    this.vision_tower = new VisionTransformer(config.vision_config, rng.fork("vision"));
    this.multi_modal_projector = new MultiModalProjector(config, rng.fork("projector"));
    this.language_model = new LlamaForCausalLM(config.text_config, rng.fork("text"));
    this.imageTokens = numImageTokens(config.vision_config);
  }

  /** Returns the input embeddings [B, T, hidden]: token embeddings with image features spliced in. */
  embed(inputs: ModelInputs): Tensor {
    const { batch: B, length: T } = inputs;
    const E = this.config.text_config.hidden_size;
    const ids = tensor(inputs.ids, { shape: [B, T], dtype: "int32" });
    const text = this.language_model.model.embed_tokens.forward(ids);
    if (!inputs.pixels) return text;
    const feats = this.multi_modal_projector.forward(this.vision_tower.forward(inputs.pixels));
    const rows = cat([text.reshape([B * T, E]), feats.reshape([-1, E])], 0);
    const index = new Int32Array(B * T);
    for (let i = 0; i < B * T; i++) index[i] = inputs.imageSlots[i] >= 0 ? B * T + inputs.imageSlots[i] : i;
    return rows.indexSelect(0, tensor(index, { dtype: "int32" })).reshape([B, T, E]);
  }

  /** Returns the final hidden states [B, T, hidden] of a batch (appending to `opts.cache` when given). */
  forward(inputs: ModelInputs, opts: DecoderOptions = {}): Tensor {
    return this.language_model.forward(this.embed(inputs), opts);
  }

  /** Returns next-token logits of final hidden states. */
  logits(hidden: Tensor): Tensor {
    return this.language_model.logits(hidden);
  }
}
