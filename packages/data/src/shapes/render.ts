import { Rng } from "@sr2se/core";
import { encodePng } from "../image/png.js";
import { circleSdf, polygonSdf, RgbImage } from "../image/raster.js";
import type { Scene } from "./scene.js";
import { COLOR_RGB, SHAPE_POLYGONS } from "./vocabulary.js";

/** Radius of each size as a fraction of a grid cell. */
const SIZE_RADIUS = { small: 0.24, large: 0.38 } as const;

/** Draws a scene into an RGB image of `size`×`size` pixels. */
export function renderScene(scene: Scene, size: number, noise = 0): RgbImage {
  const img = new RgbImage(size, size);
  img.fill(scene.background);
  const cell = size / 3;
  for (const o of scene.objects) {
    const cx = o.center[0] * size;
    const cy = o.center[1] * size;
    const r = SIZE_RADIUS[o.size] * cell;
    const rgb = COLOR_RGB[o.color];
    const box = { x0: cx - r * 1.2 - 1, y0: cy - r * 1.2 - 1, x1: cx + r * 1.2 + 1, y1: cy + r * 1.2 + 1 };
    const sdf =
      o.shape === "circle"
        ? circleSdf(cx, cy, r)
        : polygonSdf(SHAPE_POLYGONS[o.shape].map(([x, y]) => [cx + x * r, cy + y * r] as const));
    img.paint(sdf, rgb, box);
  }
  if (noise > 0 && scene.noiseSeed !== 0) addNoise(img, new Rng(scene.noiseSeed), noise);
  return img;
}

/** Adds uniform integer noise in [−amplitude, amplitude] to every channel, clamped to 0–255. */
function addNoise(img: RgbImage, rng: Rng, amplitude: number): void {
  const d = img.data;
  const a = Math.round(amplitude);
  const span = 2 * a + 1;
  for (let i = 0; i < d.length; i++) {
    const v = d[i] + (rng.nextU32() % span) - a;
    d[i] = Math.max(0, Math.min(255, v));
  }
}

/** The PNG bytes of a scene drawn at `size` pixels. */
export function renderScenePng(scene: Scene, size: number, noise = 0): Uint8Array {
  const img = renderScene(scene, size, noise);
  return encodePng(img.data, img.width, img.height);
}
