// Image preprocessing: decode (sharp, through @sr2se/data), resize to the vision tower's square,
// normalize with the config's mean and std, lay out as CHW floats.
import { loadImageRgb, mapLimit, rgbToChw } from "@sr2se/data";
import type { VlmConfig } from "../config.js";

/** Returns one image (a path or encoded bytes) as normalized CHW floats [3 · S · S]. */
export async function preprocessImage(image: string | Uint8Array, config: VlmConfig): Promise<Float32Array> {
  const size = config.vision_config.image_size;
  const rgb = await loadImageRgb(image, { size });
  return rgbToChw(rgb, size, { mean: config.image_mean, std: config.image_std });
}

/** Returns images as one batch of normalized CHW floats [N · 3 · S · S], decoded a few at a time. */
export async function preprocessImages(
  images: (string | Uint8Array)[],
  config: VlmConfig,
  concurrency = 4,
): Promise<Float32Array> {
  const size = config.vision_config.image_size;
  const plane = 3 * size * size;
  const out = new Float32Array(images.length * plane);
  await mapLimit(images, concurrency, async (img, i) => {
    out.set(await preprocessImage(img, config), i * plane);
  });
  return out;
}
