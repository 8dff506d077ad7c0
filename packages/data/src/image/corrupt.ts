// Corrupted copies of an image, the negatives of STIC (Deng et al., 2024): the policy's answer about a
// corrupted image is the dispreferred response. IPR's `negatives: "corrupted"` ablation uses them.
import { Rng } from "@sr2se/core";
import sharp from "sharp";

/** STIC's image corruptions: a lower resolution (downsampled, then scaled back) and colour jitter. */
export type ImageCorruption = "lower-resolution" | "color-jitter";

export const IMAGE_CORRUPTIONS: readonly ImageCorruption[] = ["lower-resolution", "color-jitter"];

/**
 * Returns a corrupted copy of an image (a path or encoded bytes) as PNG bytes of the same size, and
 * what was done to it. The kind and its strength are drawn from `seed`, so a seed gives the same copy.
 */
export async function corruptImage(
  image: string | Uint8Array,
  seed: number,
  kinds: readonly ImageCorruption[] = IMAGE_CORRUPTIONS,
): Promise<{ image: Uint8Array; corruption: string }> {
  if (kinds.length === 0) throw new RangeError("corruptImage: kinds is empty");
  const rng = new Rng(`corrupt-image\u0000${seed}`);
  const kind = rng.choice(kinds);
  const source = typeof image === "string" ? image : Buffer.from(image);
  const { width = 0, height = 0 } = await sharp(source).metadata();
  if (width === 0 || height === 0)
    throw new Error(`corruptImage: image ${typeof image === "string" ? `"${image}" ` : ""}has no size`);
  if (kind === "lower-resolution") {
    const factor = rng.int(4, 9);
    const small = await sharp(source)
      .resize(Math.max(1, Math.round(width / factor)), Math.max(1, Math.round(height / factor)))
      .toBuffer();
    const out = await sharp(small).resize(width, height, { kernel: "nearest" }).png().toBuffer();
    return { image: new Uint8Array(out), corruption: `lower-resolution 1/${factor}` };
  }
  const brightness = round2(rng.float(0.6, 1.4));
  const contrast = round2(rng.float(0.6, 1.4));
  const saturation = round2(rng.float(0.4, 1.6));
  const hue = rng.int(30, 331);
  const out = await sharp(source)
    .modulate({ brightness, saturation, hue })
    .linear(contrast, 128 * (1 - contrast))
    .png()
    .toBuffer();
  return {
    image: new Uint8Array(out),
    corruption: `color-jitter brightness ${brightness} contrast ${contrast} saturation ${saturation} hue ${hue}`,
  };
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}
