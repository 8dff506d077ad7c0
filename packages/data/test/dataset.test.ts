import { chmod, mkdir, mkdtemp, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RecordError } from "@sr2se/core";
import sharp from "sharp";
import { beforeAll, describe, expect, test } from "vitest";
import { checkDataset, crc32, DataLoader, encodePng, readDataset } from "../src/index.js";

let dir: string;
const line = (o: Record<string, unknown>) => JSON.stringify({ question: "What is it?", answer: "red", ...o });

/** A PNG whose header claims width × height, with a 1×1 body: enough to reach the pixel cap check. */
function pngClaiming(width: number, height: number): Uint8Array {
  const png = encodePng(Uint8Array.of(255, 0, 0), 1, 1);
  const view = new DataView(png.buffer, png.byteOffset);
  view.setUint32(16, width);
  view.setUint32(20, height);
  view.setUint32(29, crc32(png.subarray(12, 29)));
  return png;
}

async function dataset(name: string, lines: string[]): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, `${lines.join("\n")}\n`);
  return file;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "sr2se-ds-"));
  await mkdir(join(dir, "img"));
  const red = { r: 255, g: 0, b: 0 };
  await sharp({ create: { width: 40, height: 20, channels: 3, background: red } })
    .png()
    .toFile(join(dir, "img/wide.png"));
  await sharp({ create: { width: 30, height: 30, channels: 3, background: red } })
    .jpeg({ quality: 95 })
    .toFile(join(dir, "img/a.jpg"));
  await sharp({ create: { width: 30, height: 30, channels: 3, background: red } })
    .webp({ lossless: true })
    .toFile(join(dir, "img/a.webp"));
  await sharp({ create: { width: 30, height: 30, channels: 4, background: { ...red, alpha: 1 } } })
    .png()
    .toFile(join(dir, "img/rgba.png"));
  await sharp({ create: { width: 30, height: 30, channels: 3, background: { r: 128, g: 128, b: 128 } } })
    .greyscale()
    .png()
    .toFile(join(dir, "img/grey.png"));
  const noise = Uint8Array.from({ length: 64 * 64 * 3 }, (_, i) => (i * 7919) % 256);
  const big = encodePng(noise, 64, 64);
  await writeFile(join(dir, "img/truncated.png"), big.subarray(0, Math.floor(big.length / 2)));
  await writeFile(join(dir, "img/garbage.png"), "this is not an image at all");
  await writeFile(join(dir, "img/empty.png"), "");
  await writeFile(join(dir, "img/bomb.png"), pngClaiming(100_000, 100_000));
  await mkdir(join(dir, "img/folder.png"));
  await writeFile(join(dir, "outside.png"), encodePng(Uint8Array.of(1, 2, 3), 1, 1));
  const elsewhere = await mkdtemp(join(tmpdir(), "sr2se-ds-elsewhere-"));
  await writeFile(join(elsewhere, "secret.png"), encodePng(Uint8Array.of(1, 2, 3), 1, 1));
  await symlink(join(elsewhere, "secret.png"), join(dir, "img/escape.png"));
});

describe("bad input: a clear error file:line: … in strict mode", () => {
  const cases: [string, Record<string, unknown> | string, RegExp][] = [
    ["missing image", { id: "a", image: "img/nope.png" }, /image "img\/nope.png" not found/],
    [
      "unreadable image (a folder)",
      { id: "a", image: "img/folder.png" },
      /image "img\/folder.png" is not a file/,
    ],
    ["undecodable image", { id: "a", image: "img/garbage.png" }, /image "img\/garbage.png" fails to decode/],
    ["empty image file", { id: "a", image: "img/empty.png" }, /image "img\/empty.png" is an empty file/],
    [
      "decompression bomb",
      { id: "a", image: "img/bomb.png" },
      /100000×100000 = 10000000000 pixels, over the cap/,
    ],
    [
      "path leaving the folder",
      { id: "a", image: "../outside.png" },
      /field "image": "..\/outside.png" leaves the dataset folder/,
    ],
    [
      "absolute path elsewhere",
      { id: "a", image: "/etc/hostname" },
      /field "image": "\/etc\/hostname" leaves the dataset folder \(an absolute path\)/,
    ],
    [
      "symlink leading out of the folder",
      { id: "a", image: "img/escape.png" },
      /field "image": "img\/escape.png" leaves the dataset folder \(through a symlink/,
    ],
    ["missing field", '{"id":"a","image":"img/wide.png","question":"q"}', /field "answer" is missing/],
    ["bad JSON", '{"id":"a","image":', /invalid JSON/],
  ];
  test.each(cases)("%s", async (_name, record, message) => {
    const good = line({ id: "ok", image: "img/wide.png" });
    const bad = typeof record === "string" ? record : line(record);
    const file = await dataset(`bad-${Math.random().toString(36).slice(2)}.jsonl`, [good, bad]);
    const err = await readDataset(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RecordError);
    expect((err as Error).message).toMatch(
      new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}:2: `),
    );
    expect((err as Error).message).toMatch(message);
  });

  test("a zero-width image header is refused", async () => {
    await writeFile(join(dir, "img/zero.png"), pngClaiming(0, 10));
    const file = await dataset("zero.jsonl", [line({ id: "z", image: "img/zero.png" })]);
    await expect(readDataset(file)).rejects.toThrow(
      /zero.jsonl:1: image "img\/zero.png" (has zero size|fails to decode)/,
    );
  });

  // Root reads every file whatever its mode; there the folder case above covers "unreadable".
  test.skipIf(process.getuid?.() === 0)("an unreadable file (no permission) is refused", async () => {
    await writeFile(join(dir, "img/locked.png"), encodePng(Uint8Array.of(1, 2, 3), 1, 1));
    await chmod(join(dir, "img/locked.png"), 0);
    const file = await dataset("locked.jsonl", [line({ id: "l", image: "img/locked.png" })]);
    await expect(readDataset(file)).rejects.toThrow(
      /locked.jsonl:1: (cannot read image|image .* fails to decode)/,
    );
  });

  test("the pixel cap is configurable", async () => {
    const file = await dataset("cap.jsonl", [line({ id: "w", image: "img/wide.png" })]);
    await expect(readDataset(file, { maxPixels: 100 })).rejects.toThrow(
      /40×20 = 800 pixels, over the cap of 100/,
    );
  });
});

describe("lenient mode and check", () => {
  test("lenient reading keeps good records and reports every skipped one with its line", async () => {
    const file = await dataset("mixed.jsonl", [
      line({ id: "1", image: "img/wide.png" }),
      line({ id: "2", image: "img/nope.png" }),
      line({ id: "3", image: "../outside.png" }),
      '{"id":"4","image":"img/a.jpg","question":"q"}',
      line({ id: "5", image: "img/a.jpg" }),
      line({ id: "6", image: "img/bomb.png" }),
    ]);
    const ds = await readDataset(file, { lenient: true });
    expect(ds.records.map((r) => r.sample.id)).toEqual(["1", "5"]);
    expect(ds.records.map((r) => r.line)).toEqual([1, 5]);
    expect(ds.skipped.map((s) => s.line)).toEqual([2, 3, 4, 6]);
    for (const s of ds.skipped) expect(s.message).toMatch(new RegExp(`mixed.jsonl:${s.line}: `));
  });

  test("a JSON array is read like JSON Lines", async () => {
    const file = join(dir, "array.json");
    await writeFile(
      file,
      JSON.stringify(
        [
          { id: "a", image: "img/wide.png", question: "q", answer: "x" },
          { id: "b", image: "img/a.webp", question: "q", answer: "y" },
        ],
        null,
        2,
      ),
    );
    const ds = await readDataset(file);
    expect(ds.records.map((r) => r.sample.answer)).toEqual(["x", "y"]);
  });

  test("check lists every problem, full decode and duplicate ids included", async () => {
    const file = await dataset("check.jsonl", [
      line({ id: "1", image: "img/wide.png" }),
      line({ id: "2", image: "img/truncated.png" }),
      line({ id: "1", image: "img/a.jpg" }),
      line({ id: "4", image: "img/garbage.png" }),
      '{"id":"5","image":"img/a.jpg"}',
    ]);
    const report = await checkDataset(file);
    expect(report.problems.map((p) => p.line)).toEqual([2, 3, 4, 5]);
    expect(report.problems[0].message).toMatch(/check.jsonl:2: image "img\/truncated.png" fails to decode/);
    expect(report.problems[1].message).toMatch(/duplicate id "1" \(first on line 1\)/);
    expect(report.valid).toBe(1);
    expect(report.records).toBe(5);
  });
});

describe("DataLoader", () => {
  test("yields normalized CHW batches of any format, converted to RGB", async () => {
    const file = await dataset(
      "formats.jsonl",
      ["img/wide.png", "img/a.jpg", "img/a.webp", "img/rgba.png", "img/grey.png"].map((image, i) =>
        line({ id: String(i), image }),
      ),
    );
    const loader = new DataLoader(await readDataset(file), { batchSize: 2, size: 8, fit: "crop" });
    const batches = [];
    for await (const b of loader) batches.push(b);
    expect(batches.map((b) => b.shape)).toEqual([
      [2, 3, 8, 8],
      [2, 3, 8, 8],
      [1, 3, 8, 8],
    ]);
    expect(loader.length).toBe(3);
    const plane = 64;
    // Red (255, 0, 0) → (1, −1, −1) with mean 0.5, std 0.5; JPEG is close, the rest exact.
    for (const [b, k] of [
      [0, 0],
      [0, 1],
      [1, 0],
      [1, 1],
    ] as const) {
      const px = batches[b].pixels.subarray(k * 3 * plane);
      expect(px[0]).toBeCloseTo(1, 1);
      expect(px[plane]).toBeCloseTo(-1, 1);
      expect(px[2 * plane]).toBeCloseTo(-1, 1);
    }
    const grey = batches[2].pixels;
    expect(grey[0]).toBeCloseTo(grey[plane], 5);
    expect(grey[0]).toBeCloseTo(128 / 127.5 - 1, 2);
  });

  test("letterbox pads a wide image, crop fills the square", async () => {
    const file = await dataset("wide.jsonl", [line({ id: "w", image: "img/wide.png" })]);
    const ds = await readDataset(file);
    const get = async (fit: "letterbox" | "crop") => {
      for await (const b of new DataLoader(ds, { batchSize: 1, size: 20, fit })) return b.pixels;
      throw new Error("no batch");
    };
    const box = await get("letterbox");
    const crop = await get("crop");
    // 40×20 → 20×10 band in the middle rows; rows 0–4 are black padding (−1 on red).
    expect(box[0]).toBeCloseTo(-1, 5);
    expect(box[10 * 20]).toBeCloseTo(1, 5);
    expect(crop[0]).toBeCloseTo(1, 5);
  });

  test("shuffles by seed, a new order each epoch, every sample once", async () => {
    const file = await dataset(
      "many.jsonl",
      Array.from({ length: 12 }, (_, i) => line({ id: `s${i}`, image: "img/wide.png" })),
    );
    const ds = await readDataset(file);
    const order = async (loader: DataLoader) => {
      const ids: string[] = [];
      for await (const b of loader) ids.push(...b.samples.map((s) => s.id));
      return ids;
    };
    const a = new DataLoader(ds, {
      batchSize: 5,
      size: 4,
      shuffle: true,
      seed: 3,
      concurrency: 2,
      prefetch: 1,
    });
    const b = new DataLoader(ds, { batchSize: 5, size: 4, shuffle: true, seed: 3 });
    const [a1, a2, b1] = [await order(a), await order(a), await order(b)];
    expect(a1).toEqual(b1);
    expect(a1).not.toEqual(a2);
    expect([...a1].sort()).toEqual(ds.records.map((r) => r.sample.id).sort());
    const dropped = new DataLoader(ds, { batchSize: 5, size: 4, dropLast: true });
    expect((await order(dropped)).length).toBe(10);
  });

  test("an image that breaks while loading: strict throws file:line, lenient skips and reports it", async () => {
    const file = await dataset("late.jsonl", [
      line({ id: "1", image: "img/wide.png" }),
      line({ id: "2", image: "img/truncated.png" }),
    ]);
    const ds = await readDataset(file);
    const strict = async () => {
      for await (const _ of new DataLoader(ds, { batchSize: 2, size: 8 })) void _;
    };
    await expect(strict()).rejects.toThrow(/late.jsonl:2: image "img\/truncated.png" fails to decode/);
    const lenient = new DataLoader(ds, { batchSize: 2, size: 8, lenient: true });
    const got: string[] = [];
    for await (const b of lenient) got.push(...b.samples.map((s) => s.id));
    expect(got).toEqual(["1"]);
    expect(lenient.skipped.map((s) => s.line)).toEqual([2]);
  });

  test("prefetch runs ahead of a slow consumer with at most `concurrency` decodes at once", async () => {
    const file = await dataset(
      "ahead.jsonl",
      Array.from({ length: 16 }, (_, i) => line({ id: `p${i}`, image: "img/a.webp" })),
    );
    const ds = await readDataset(file);
    let inFlight = 0;
    let peak = 0;
    let started = 0;
    const decode = async (_path: string, o: { size: number }) => {
      started++;
      peak = Math.max(peak, ++inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      return new Uint8Array(o.size * o.size * 3);
    };
    const loader = new DataLoader(ds, { batchSize: 2, size: 4, prefetch: 3, concurrency: 3, decode });
    const it = loader[Symbol.asyncIterator]();
    await it.next();
    // While the consumer holds batch 0, batches 1–3 decode in the background, and no further.
    await new Promise((r) => setTimeout(r, 200));
    expect(started).toBe(8);
    let n = 1;
    while (!(await it.next()).done) n++;
    expect(n).toBe(8);
    expect(peak).toBe(3);
  });
});

test("a consumer that stops early leaves no unhandled rejection behind", async () => {
  const file = join(dir, "early.jsonl");
  await writeFile(
    file,
    `${Array.from({ length: 6 }, (_, i) => line({ id: `e${i}`, image: i < 2 ? "img/wide.png" : "img/truncated.png" })).join("\n")}\n`,
  );
  const ds = await readDataset(file);
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown) => unhandled.push(e);
  process.on("unhandledRejection", onUnhandled);
  try {
    for await (const b of new DataLoader(ds, { batchSize: 2, size: 8, prefetch: 3 })) {
      expect(b.samples[0].id).toBe("e0");
      break;
    }
    await new Promise((r) => setTimeout(r, 100));
    expect(unhandled).toEqual([]);
  } finally {
    process.off("unhandledRejection", onUnhandled);
  }
});

test("a missing dataset file is named", async () => {
  await expect(readDataset(join(dir, "absent.jsonl"))).rejects.toThrow(
    /absent.jsonl: dataset file not found/,
  );
});

test("image bytes decode like files, under the same pixel cap", async () => {
  const { loadImageRgb } = await import("../src/index.js");
  const rgb = await loadImageRgb(encodePng(Uint8Array.of(10, 20, 30, 40, 50, 60), 2, 1), {
    size: 2,
    fit: "crop",
  });
  expect(rgb.length).toBe(12);
  await expect(loadImageRgb(pngClaiming(100_000, 100_000), { size: 8 })).rejects.toThrow(/fails to decode/);
});
