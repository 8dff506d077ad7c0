/** The vision tower (a ViT): patch embedding, learned position embeddings, pre-norm blocks. */
export interface VisionConfig {
  image_size: number;
  patch_size: number;
  num_channels: number;
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  layer_norm_eps: number;
}

/** The language tower, in Hugging Face LlamaConfig's keys. */
export interface TextConfig {
  model_type: "llama";
  vocab_size: number;
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  num_key_value_heads: number;
  head_dim?: number;
  rms_norm_eps: number;
  rope_theta: number;
  max_position_embeddings: number;
  tie_word_embeddings: boolean;
}

/** A whole VLM's `config.json`, in the Hugging Face style (LLaVA's layout). */
export interface VlmConfig {
  architectures: string[];
  model_type: "sr2se_vlm";
  vision_config: VisionConfig;
  text_config: TextConfig;
  /** Hidden size of the MLP projector between the towers. */
  projector_hidden_size: number;
  image_token_id: number;
  eos_token_id: number;
  pad_token_id: number;
  /** Image normalization applied before the vision tower. */
  image_mean: [number, number, number];
  image_std: [number, number, number];
}

/** The default compact VLM: small enough to train on a 2-core CPU in minutes. */
export function defaultConfig(
  vocabSize: number,
  ids: { image: number; eos: number; pad?: number },
): VlmConfig {
  return {
    architectures: ["Sr2seVlmForConditionalGeneration"],
    model_type: "sr2se_vlm",
    vision_config: {
      image_size: 48,
      // one patch per cell of the shapes world's 3×3 grid at 48 px: 9 image tokens, a short sequence
      patch_size: 16,
      num_channels: 3,
      hidden_size: 96,
      intermediate_size: 256,
      num_hidden_layers: 2,
      num_attention_heads: 4,
      layer_norm_eps: 1e-5,
    },
    text_config: {
      model_type: "llama",
      vocab_size: vocabSize,
      hidden_size: 128,
      intermediate_size: 352,
      num_hidden_layers: 3,
      num_attention_heads: 4,
      num_key_value_heads: 2,
      head_dim: 32,
      rms_norm_eps: 1e-5,
      rope_theta: 10000,
      max_position_embeddings: 512,
      tie_word_embeddings: true,
    },
    projector_hidden_size: 128,
    image_token_id: ids.image,
    eos_token_id: ids.eos,
    pad_token_id: ids.pad ?? ids.eos,
    image_mean: [0.5, 0.5, 0.5],
    image_std: [0.5, 0.5, 0.5],
  };
}

/** Head size of the language tower's attention. */
export function textHeadDim(c: TextConfig): number {
  return c.head_dim ?? c.hidden_size / c.num_attention_heads;
}

/** Number of image tokens the vision tower produces. */
export function numImageTokens(c: VisionConfig): number {
  return (c.image_size / c.patch_size) ** 2;
}

/** Checks a config for values the model cannot run with; errors name the file and field. */
export function validateConfig(c: VlmConfig, where = "config.json"): VlmConfig {
  const fail = (field: string, why: string): never => {
    throw new Error(`${where}: field "${field}" ${why}`);
  };
  if (!c || typeof c !== "object") fail("(root)", "is not an object");
  if (!c.vision_config) fail("vision_config", "is missing");
  if (!c.text_config) fail("text_config", "is missing");
  const pos = (obj: Record<string, unknown>, prefix: string, keys: string[]) => {
    for (const k of keys) {
      const v = obj[k];
      if (v === undefined) fail(`${prefix}.${k}`, "is missing");
      if (typeof v !== "number" || !(v > 0) || !Number.isFinite(v))
        fail(`${prefix}.${k}`, `must be a positive number, got ${JSON.stringify(v)}`);
    }
  };
  const v = c.vision_config;
  pos(v as unknown as Record<string, unknown>, "vision_config", [
    "image_size",
    "patch_size",
    "num_channels",
    "hidden_size",
    "intermediate_size",
    "num_hidden_layers",
    "num_attention_heads",
    "layer_norm_eps",
  ]);
  if (v.image_size % v.patch_size !== 0)
    fail("vision_config.patch_size", `must divide image_size (${v.image_size} % ${v.patch_size} != 0)`);
  if (v.hidden_size % v.num_attention_heads !== 0)
    fail("vision_config.num_attention_heads", `must divide hidden_size ${v.hidden_size}`);
  const t = c.text_config;
  pos(t as unknown as Record<string, unknown>, "text_config", [
    "vocab_size",
    "hidden_size",
    "intermediate_size",
    "num_hidden_layers",
    "num_attention_heads",
    "num_key_value_heads",
    "rms_norm_eps",
    "rope_theta",
    "max_position_embeddings",
  ]);
  if (t.num_attention_heads % t.num_key_value_heads !== 0)
    fail("text_config.num_key_value_heads", `must divide num_attention_heads ${t.num_attention_heads}`);
  if (t.head_dim === undefined && t.hidden_size % t.num_attention_heads !== 0)
    fail("text_config.num_attention_heads", `must divide hidden_size ${t.hidden_size}`);
  if (textHeadDim(t) % 2 !== 0) fail("text_config.head_dim", "must be even (rotary embeddings)");
  if (!(c.projector_hidden_size > 0)) fail("projector_hidden_size", "must be a positive number");
  for (const k of ["image_token_id", "eos_token_id", "pad_token_id"] as const) {
    if (!Number.isInteger(c[k]) || c[k] < 0 || c[k] >= t.vocab_size)
      fail(k, `must be a token id below vocab_size ${t.vocab_size}, got ${c[k]}`);
  }
  return c;
}
