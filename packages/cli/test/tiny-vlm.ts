// What the end-to-end CLI tests train: a world of existence questions only (a barely trained model
// is right often enough to be corrected, so IPR finds pairs) and a VLM small enough for seconds.

/** `data synth --config`: yes/no existence questions only, no correction dialogues. */
export const EXISTENCE_WORLD = {
  families: { existence: 1, count: 0, arithmetic: 0, attribute: 0, position: 0, spatial: 0, describe: 0 },
  correctionShare: 0,
};

/** `train sft --config`: a tiny model and a short recipe. */
export const TINY_SFT = {
  vision_config: { hidden_size: 32, intermediate_size: 64, num_hidden_layers: 1, num_attention_heads: 2 },
  text_config: {
    hidden_size: 64,
    intermediate_size: 128,
    num_hidden_layers: 1,
    num_attention_heads: 2,
    num_key_value_heads: 1,
    head_dim: 32,
  },
  projector_hidden_size: 64,
  training: {
    steps: 120,
    batch_size: 8,
    lr: 0.004,
    min_lr: 0.001,
    warmup_steps: 10,
    eval_every: 1000,
    save_every: 1000,
    vocab_size: 320,
  },
};
