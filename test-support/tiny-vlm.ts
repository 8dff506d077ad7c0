// The shape of the tests' tiny VLMs: small enough that training one takes seconds on two cores.

/** The vision tower: one layer of two heads on 32×32 images cut into 8×8 patches. */
export const tinyVision = {
  image_size: 32,
  patch_size: 8,
  hidden_size: 16,
  intermediate_size: 32,
  num_hidden_layers: 1,
  num_attention_heads: 2,
};

/** The decoder: one layer, four query heads sharing two key-value heads of width 8. */
export const tinyText = {
  hidden_size: 32,
  intermediate_size: 64,
  num_hidden_layers: 1,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  head_dim: 8,
};

/** The model part of an SFT config file (`trainSft`'s `config` less `training`) of the tiny shape. */
export const tinySftModel = { vision_config: tinyVision, text_config: tinyText, projector_hidden_size: 32 };

/** Returns the RGB bytes of a `size`×`size` image: a square of the colour on a light grey ground. */
export function squareRgb(r: number, g: number, b: number, size: number): Uint8Array {
  const rgb = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      const inside = x > size / 4 && x < (3 * size) / 4 && y > size / 4 && y < (3 * size) / 4;
      rgb.set(inside ? [r, g, b] : [240, 240, 240], (y * size + x) * 3);
    }
  return rgb;
}

/** Returns a full model config cut to the tiny shape held in memory: 16×16 images, two decoder layers. */
export function asTinyModel<C extends { vision_config: object; text_config: object }>(config: C): C {
  return {
    ...config,
    vision_config: { ...config.vision_config, ...tinyVision, image_size: 16 },
    text_config: { ...config.text_config, ...tinyText, num_hidden_layers: 2 },
    projector_hidden_size: 32,
  };
}
