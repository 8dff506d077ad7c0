import sharp from "sharp";
import { describe, expect, test } from "vitest";
import { COLOR_RGB, COLORS, renderScenePng, resolveWorldConfig, type Scene } from "../src/index.js";
import { samples } from "./helpers/world.js";

/** The palette colour nearest to a pixel. */
function nearestColor(px: readonly number[]): string {
  let best = "";
  let bestD = Number.POSITIVE_INFINITY;
  for (const c of COLORS) {
    const [r, g, b] = COLOR_RGB[c];
    const d = (px[0] - r) ** 2 + (px[1] - g) ** 2 + (px[2] - b) ** 2;
    if (d < bestD) [best, bestD] = [c, d];
  }
  return best;
}

async function decode(png: Uint8Array) {
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  return {
    data,
    width: info.width,
    at: (x: number, y: number) => [...data.subarray((y * info.width + x) * 3, (y * info.width + x) * 3 + 3)],
  };
}

describe("rendering: ground truth from the pixels", () => {
  test.each([32, 48, 96])(
    "the decoded colour at every object's centre is the object's colour (size %i)",
    async (size) => {
      const config = resolveWorldConfig();
      let checked = 0;
      for (const { scene } of samples(150, `render-${size}`)) {
        const img = await decode(renderScenePng(scene, size, config.clutter.noise));
        for (const o of scene.objects) {
          const x = Math.floor(o.center[0] * size);
          const y = Math.floor(o.center[1] * size);
          expect(nearestColor(img.at(x, y)), `${o.color} ${o.shape} at ${x},${y}`).toBe(o.color);
          checked++;
        }
      }
      expect(checked).toBeGreaterThan(300);
    },
  );

  test("each object sits inside its grid cell and empty cells show background", async () => {
    const size = 48;
    for (const { scene } of samples(60, "cells")) {
      const img = await decode(renderScenePng(scene, size, 0));
      for (let r = 0; r < 3; r++)
        for (let c = 0; c < 3; c++) {
          const x = Math.floor(((c + 0.5) / 3) * size);
          const y = Math.floor(((r + 0.5) / 3) * size);
          const o = scene.objects.find((p) => p.cell[0] === r && p.cell[1] === c);
          if (!o) expect(img.at(x, y)).toEqual(scene.background);
          else {
            expect(Math.floor(o.center[0] * 3)).toBe(c);
            expect(Math.floor(o.center[1] * 3)).toBe(r);
          }
        }
    }
  });

  test("edges are anti-aliased: pixels between background and object colour exist", async () => {
    const scene: Scene = {
      theme: "mixed",
      objects: [{ shape: "circle", color: "blue", size: "large", cell: [1, 1], center: [0.5, 0.5] }],
      background: [228, 228, 228],
      noiseSeed: 0,
    };
    const img = await decode(renderScenePng(scene, 48, 0));
    let blends = 0;
    for (let i = 0; i < img.data.length; i += 3) {
      const px = [img.data[i], img.data[i + 1], img.data[i + 2]];
      const isBg = px.every((v, k) => v === scene.background[k]);
      const isFg = px.every((v, k) => v === COLOR_RGB.blue[k]);
      if (isBg || isFg) continue;
      // A blend lies between the two colours on every channel.
      for (let k = 0; k < 3; k++) {
        expect(px[k]).toBeGreaterThanOrEqual(Math.min(scene.background[k], COLOR_RGB.blue[k]));
        expect(px[k]).toBeLessThanOrEqual(Math.max(scene.background[k], COLOR_RGB.blue[k]));
      }
      blends++;
    }
    // The outline of a radius-6 circle crosses about 2πr ≈ 38 pixels.
    expect(blends).toBeGreaterThan(20);
  });
});
