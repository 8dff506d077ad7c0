// Hostile image bytes, seeded: a valid PNG with bytes flipped, cut short, or its size fields set to a
// decompression bomb's, and random bytes: each decodes to the model's square or fails with an
// ImageError, one image at a time, in bounded time. Never a crash, a hang or a huge allocation.
import { deflateSync } from "node:zlib";
import { Rng } from "@sr2se/core";
import { describe, expect, it } from "vitest";
import { encodePng } from "../src/image/png.js";
import { crc32, ImageError, loadImageRgb } from "../src/index.js";

/** Images of each kind; SR2SE_FUZZ_CASES raises them locally. */
const CASES = Number(process.env.SR2SE_FUZZ_CASES) || 150;
const SIZE = 16;

function validPng(rng: Rng): Uint8Array {
  const w = rng.int(1, 24);
  const h = rng.int(1, 24);
  return encodePng(
    Uint8Array.from({ length: w * h * 3 }, () => rng.int(0, 256)),
    w,
    h,
  );
}

/** Sets the IHDR width and height of a PNG (bytes 16–23), with a CRC that matches, as a bomb's would. */
function claiming(png: Uint8Array, w: number, h: number): Uint8Array {
  const out = png.slice();
  const view = new DataView(out.buffer);
  view.setUint32(16, w);
  view.setUint32(20, h);
  view.setUint32(29, crc32(out.subarray(12, 29)));
  return out;
}

async function expectLoadsOrImageError(bytes: Uint8Array): Promise<"ok" | "refused"> {
  const started = performance.now();
  try {
    const rgb = await loadImageRgb(bytes, { size: SIZE, maxPixels: 1_000_000 });
    expect(rgb.length).toBe(SIZE * SIZE * 3);
    return "ok";
  } catch (err) {
    expect(err, String(err)).toBeInstanceOf(ImageError);
    expect((err as Error).message).toMatch(/^image "<bytes>" /);
    return "refused";
  } finally {
    expect(performance.now() - started).toBeLessThan(2000);
  }
}

describe("image fuzz", () => {
  it(`flipped, cut, bomb-sized and random bytes decode or fail with an ImageError (${CASES * 4} images)`, async () => {
    const rng = new Rng("images");
    const seen = { ok: 0, refused: 0 };
    for (let i = 0; i < CASES; i++) {
      const png = validPng(rng);
      const flipped = png.slice();
      for (let k = rng.int(1, 4); k > 0; k--) flipped[rng.int(8, flipped.length)] ^= 1 << rng.int(0, 8);
      seen[await expectLoadsOrImageError(flipped)]++;
      seen[await expectLoadsOrImageError(png.subarray(0, rng.int(0, png.length)))]++;
      seen[
        await expectLoadsOrImageError(
          claiming(png, rng.int(20_000, 2 ** 31 - 1), rng.int(20_000, 2 ** 31 - 1)),
        )
      ]++;
      seen[
        await expectLoadsOrImageError(Uint8Array.from({ length: rng.int(1, 512) }, () => rng.int(0, 256)))
      ]++;
    }
    expect(seen.refused).toBeGreaterThan(CASES * 2);
  }, 120_000);

  it("a real decompression bomb (16 megapixels of zeros in under 100 KB) is refused before it is decoded", async () => {
    const w = 4000;
    const h = 4000;
    // rows of zeros (filter byte and pixels) deflate to almost nothing
    const idat = deflateSync(new Uint8Array(h * (1 + w * 3)), { level: 9 });
    const chunk = (type: string, data: Uint8Array) => {
      const out = new Uint8Array(12 + data.length);
      const view = new DataView(out.buffer);
      view.setUint32(0, data.length);
      out.set(new TextEncoder().encode(type), 4);
      out.set(data, 8);
      view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
      return out;
    };
    const ihdr = new Uint8Array(13);
    new DataView(ihdr.buffer).setUint32(0, w);
    new DataView(ihdr.buffer).setUint32(4, h);
    ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
    const png = Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      chunk("IHDR", ihdr),
      chunk("IDAT", idat),
      chunk("IEND", new Uint8Array(0)),
    ]);
    expect(png.length).toBeLessThan(100_000);
    const started = performance.now();
    await expect(loadImageRgb(new Uint8Array(png), { size: SIZE, maxPixels: 10_000_000 })).rejects.toThrow(
      /pixels|limit/,
    );
    expect(performance.now() - started).toBeLessThan(2000);
  });
});
