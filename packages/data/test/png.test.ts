import { inflateSync } from "node:zlib";
import { Rng } from "@sr2se/core";
import sharp from "sharp";
import { describe, expect, test } from "vitest";
import { adler32, crc32, encodePng, zlibDeflate } from "../src/index.js";

describe("deterministic PNG encoder", () => {
  test("zlib stream inflates back to the input (runs, literals, long runs, empty)", () => {
    const rng = new Rng(5);
    const cases = [
      new Uint8Array(0),
      new Uint8Array(1000).fill(7),
      Uint8Array.from({ length: 5000 }, () => rng.int(0, 256)),
      Uint8Array.from({ length: 5000 }, (_, i) => (i % 300 < 150 ? 0 : rng.int(250, 256))),
    ];
    for (const data of cases) expect(new Uint8Array(inflateSync(zlibDeflate(data)))).toEqual(data);
  });

  test("checksums match zlib's (crc32, adler32 as inflate verifies it)", () => {
    // "123456789" is the standard check input: CRC-32 0xCBF43926, Adler-32 0x091E01DE.
    const check = new TextEncoder().encode("123456789");
    expect(crc32(check)).toBe(0xcbf43926);
    expect(adler32(check)).toBe(0x091e01de);
  });

  test("sharp decodes the PNG to exactly the encoded pixels", async () => {
    const rng = new Rng(9);
    const [w, h] = [37, 23];
    const rgb = Uint8Array.from({ length: w * h * 3 }, (_, i) => (i % 7 === 0 ? rng.int(0, 256) : 200));
    const { data, info } = await sharp(encodePng(rgb, w, h))
      .raw()
      .toBuffer({ resolveWithObject: true });
    expect([info.width, info.height, info.channels]).toEqual([w, h, 3]);
    expect(new Uint8Array(data)).toEqual(rgb);
  });

  test("rejects a buffer that is not width × height × 3", () => {
    expect(() => encodePng(new Uint8Array(10), 2, 2)).toThrow(/do not make a 2×2 RGB image/);
  });
});
