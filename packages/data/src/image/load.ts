import { stat } from "node:fs/promises";
import sharp from "sharp";

/** How an image is brought to the model's square resolution. */
export type Fit = "letterbox" | "crop";

/** Options of image decoding. */
export interface ImageOptions {
  /** Side of the square output, in pixels. */
  size: number;
  /** letterbox: whole image, padded; crop: fill the square, centre-cropped. Default letterbox. */
  fit?: Fit;
  /** Largest accepted width × height of the source (decompression-bomb guard). Default 40 megapixels. */
  maxPixels?: number;
  /** Padding and alpha background (sRGB). Default black for padding, white under transparency. */
  background?: readonly [number, number, number];
}

export const DEFAULT_MAX_PIXELS = 40_000_000;

/** A problem with one image file; the message says what, the dataset layer adds file:line. */
export class ImageError extends Error {
  constructor(
    message: string,
    readonly path: string,
  ) {
    super(message);
    this.name = "ImageError";
  }
}

/** The header facts of an image after the checks: missing, unreadable, empty, undecodable, zero-size, too large. */
export async function probeImage(
  path: string,
  maxPixels = DEFAULT_MAX_PIXELS,
): Promise<{ width: number; height: number; format: string }> {
  let bytes: number;
  try {
    const st = await stat(path);
    if (!st.isFile()) throw new ImageError(`image "${path}" is not a file`, path);
    bytes = st.size;
  } catch (err) {
    if (err instanceof ImageError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new ImageError(`image "${path}" not found`, path);
    throw new ImageError(`cannot read image "${path}": ${(err as Error).message}`, path);
  }
  if (bytes === 0) throw new ImageError(`image "${path}" is an empty file (0 bytes)`, path);
  let meta: sharp.Metadata;
  try {
    meta = await sharp(path, { limitInputPixels: false }).metadata();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EACCES") throw new ImageError(`cannot read image "${path}": permission denied`, path);
    throw new ImageError(`image "${path}" fails to decode: ${(err as Error).message}`, path);
  }
  const width = meta.width ?? 0;
  const height = meta.height ?? 0;
  if (width === 0 || height === 0)
    throw new ImageError(`image "${path}" has zero size (${width}×${height})`, path);
  if (width * height > maxPixels)
    throw new ImageError(
      `image "${path}" is ${width}×${height} = ${width * height} pixels, over the cap of ${maxPixels} (decompression bomb?)`,
      path,
    );
  return { width, height, format: meta.format ?? "unknown" };
}

/**
 * The image at `path` decoded to 8-bit RGB (alpha flattened, any colour space converted to sRGB)
 * and resized to size×size: row-major, 3 bytes a pixel. Throws ImageError on bad input.
 */
export async function loadImageRgb(path: string | Uint8Array, options: ImageOptions): Promise<Uint8Array> {
  const { size, fit = "letterbox", maxPixels = DEFAULT_MAX_PIXELS } = options;
  const where = typeof path === "string" ? path : "<bytes>";
  if (typeof path === "string") await probeImage(path, maxPixels);
  const bg = options.background;
  try {
    const { data, info } = await sharp(path, { limitInputPixels: maxPixels, failOn: "error" })
      .rotate()
      .flatten({ background: bg ? { r: bg[0], g: bg[1], b: bg[2] } : { r: 255, g: 255, b: 255 } })
      .toColourspace("srgb")
      .resize(size, size, {
        fit: fit === "crop" ? "cover" : "contain",
        position: "centre",
        background: bg ? { r: bg[0], g: bg[1], b: bg[2], alpha: 1 } : { r: 0, g: 0, b: 0, alpha: 1 },
      })
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3 || info.width !== size || info.height !== size)
      throw new Error(`decoded to ${info.width}×${info.height}×${info.channels}, expected ${size}×${size}×3`);
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  } catch (err) {
    if (err instanceof ImageError) throw err;
    throw new ImageError(`image "${where}" fails to decode: ${(err as Error).message}`, where);
  }
}

/** Per-channel normalization applied when pixels become model input. */
export interface Normalize {
  mean: readonly [number, number, number];
  std: readonly [number, number, number];
}

/** Maps 0–255 to [−1, 1], the default for a model trained from scratch. */
export const DEFAULT_NORMALIZE: Normalize = { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] };

/**
 * Writes an RGB image (HWC bytes) as normalized CHW floats into `out` at `offset` and returns `out`:
 * out[c·H·W + y·W + x] = (rgb/255 − mean[c]) / std[c].
 */
export function rgbToChw(
  rgb: Uint8Array,
  size: number,
  normalize: Normalize = DEFAULT_NORMALIZE,
  out: Float32Array = new Float32Array(3 * size * size),
  offset = 0,
): Float32Array {
  const plane = size * size;
  for (let c = 0; c < 3; c++) {
    const scale = 1 / (255 * normalize.std[c]);
    const shift = normalize.mean[c] / normalize.std[c];
    const base = offset + c * plane;
    for (let p = 0; p < plane; p++) out[base + p] = rgb[p * 3 + c] * scale - shift;
  }
  return out;
}
