import sharp from "sharp";
import { describe, expect, test } from "vitest";
import { corruptImage, renderScenePng } from "../src/index.js";
import { samples } from "./helpers/world.js";

const [{ scene }] = samples(1, "corrupt");
const png = renderScenePng(scene, 48);

async function pixels(bytes: Uint8Array) {
  const { data, info } = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

describe("corruptImage (STIC's negatives)", () => {
  test.each(["lower-resolution", "color-jitter"] as const)(
    "%s gives a PNG of the same size whose pixels differ, the same for the same seed",
    async (kind) => {
      const a = await corruptImage(png, 7, [kind]);
      const b = await corruptImage(png, 7, [kind]);
      expect(a.corruption.startsWith(kind)).toBe(true);
      expect(b).toEqual(a);
      const [src, out] = await Promise.all([pixels(png), pixels(a.image)]);
      expect([out.width, out.height]).toEqual([src.width, src.height]);
      let changed = 0;
      for (let i = 0; i < src.data.length; i++) if (src.data[i] !== out.data[i]) changed++;
      expect(changed / src.data.length).toBeGreaterThan(0.02);
    },
  );

  test("the seed picks the kind and its strength", async () => {
    const made = await Promise.all(Array.from({ length: 8 }, (_, s) => corruptImage(png, s)));
    const kinds = new Set(made.map((m) => m.corruption.split(" ")[0]));
    expect([...kinds].sort()).toEqual(["color-jitter", "lower-resolution"]);
    expect(new Set(made.map((m) => m.corruption)).size).toBeGreaterThan(4);
  });
});
