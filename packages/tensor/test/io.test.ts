// safetensors: round trips, every dtype we read, strict header checks, a fuzzed reader, and the
// tensor-by-tensor file reader.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import * as T from "../src/index.js";
import { Generator, io } from "../src/index.js";

const dir = mkdtempSync(join(tmpdir(), "sr2se-tensor-io-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Returns a safetensors file from a header object and a data section. */
function file(header: unknown, data: Uint8Array | number[] = []): Uint8Array {
  const json = new TextEncoder().encode(typeof header === "string" ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

describe("safetensors", () => {
  it("decodes host arrays from a Node Buffer read off disk, each tensor its own copy", async () => {
    const { readFile, writeFile } = await import("node:fs/promises");
    const host = new Map<string, io.HostArray>([
      ["a", { dtype: "float32", shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) }],
      ["b", { dtype: "int32", shape: [3], data: Int32Array.from([-1, 0, 7]) }],
      ["c", { dtype: "float64", shape: [1], data: Float64Array.from([Math.E]) }],
    ]);
    const path = join(dir, "host.safetensors");
    await writeFile(path, io.encodeSafetensors(host, { kind: "host" }));
    // readFile gives a Buffer whose slice() would share memory: the decoded arrays must not
    const { tensors, metadata } = io.decodeSafetensors(await readFile(path), path);
    expect(metadata).toEqual({ kind: "host" });
    for (const [name, t] of host) {
      const back = tensors.get(name) as io.HostArray;
      expect(back.dtype).toBe(t.dtype);
      expect(back.shape).toEqual(t.shape);
      expect(back.data.length).toBe(t.data.length);
      expect([...back.data]).toEqual([...t.data]);
      expect(back.data.buffer.byteLength).toBe(back.data.byteLength);
    }
    expect(() =>
      io.encodeSafetensors({ x: { dtype: "float32", shape: [4], data: new Float32Array(3) } }),
    ).toThrow(/tensor "x" has 3 values for shape \[4\]/);
  });

  it("round-trips float32, float64, int32 and bool with metadata", async () => {
    const tensors = {
      w: T.tensor([
        [1.5, -2],
        [3, 4.25],
      ]),
      d: T.tensor([Math.PI, 1e-300], { dtype: "float64" }),
      i: T.tensor([7, -8, 2147483647], { dtype: "int32" }),
      b: T.tensor([true, false, true]),
      empty: T.zeros([0, 3]),
    };
    const bytes = await io.saveSafetensors(tensors, { format: "pt" });
    const { tensors: back, metadata } = io.loadSafetensors(bytes);
    expect(metadata).toEqual({ format: "pt" });
    for (const [k, t] of Object.entries(tensors)) {
      expect(back[k].shape).toEqual(t.shape);
      expect(back[k].dtype).toBe(t.dtype);
      expect(Array.from(await back[k].data())).toEqual(Array.from(await t.data()));
    }
  });

  it("reads F16, BF16, I64 and U8, widening and narrowing as documented", async () => {
    const f16 = new Uint8Array(new Uint16Array([0x3c00, 0xc000, 0x7bff, 0x0001, 0x7c00]).buffer);
    const bf16 = new Uint8Array(new Uint16Array([0x3f80, 0x4049]).buffer);
    const i64 = new Uint8Array(new BigInt64Array([5n, -3n]).buffer);
    const u8 = new Uint8Array([0, 255]);
    const data = new Uint8Array([...f16, ...bf16, ...i64, ...u8]);
    const bytes = file(
      {
        h: { dtype: "F16", shape: [5], data_offsets: [0, 10] },
        bf: { dtype: "BF16", shape: [2], data_offsets: [10, 14] },
        l: { dtype: "I64", shape: [2], data_offsets: [14, 30] },
        u: { dtype: "U8", shape: [2], data_offsets: [30, 32] },
      },
      data,
    );
    const { tensors } = io.loadSafetensors(bytes);
    expect(Array.from(await tensors.h.data())).toEqual([1, -2, 65504, 2 ** -24, Number.POSITIVE_INFINITY]);
    expect(tensors.h.dtype).toBe("float32");
    expect(Array.from(await tensors.bf.data())).toEqual([1, 3.140625]);
    expect(Array.from(await tensors.l.data())).toEqual([5, -3]);
    expect(tensors.l.dtype).toBe("int32");
    expect(Array.from(await tensors.u.data())).toEqual([0, 255]);
  });

  it("refuses an I64 value that does not fit int32", () => {
    const bytes = file(
      { l: { dtype: "I64", shape: [1], data_offsets: [0, 8] } },
      new Uint8Array(new BigInt64Array([2n ** 40n]).buffer),
    );
    expect(() => io.loadSafetensors(bytes)).toThrow(
      'safetensors: tensor "l" element 0 (1099511627776) does not fit int32',
    );
  });

  const bad: [string, Uint8Array, string | RegExp][] = [
    ["a file shorter than 8 bytes", new Uint8Array(3), "too short for a safetensors header"],
    [
      "a header length past the end",
      (() => {
        const b = file({});
        new DataView(b.buffer).setBigUint64(0, 1000n, true);
        return b;
      })(),
      "header length 1000 runs past the end of the file",
    ],
    [
      "a huge header length",
      (() => {
        const b = file({});
        new DataView(b.buffer).setBigUint64(0, 2n ** 62n, true);
        return b;
      })(),
      /exceeds the 100000000-byte limit/,
    ],
    ["a header that is not JSON", file("{not json"), /header is not valid JSON/],
    ["a header that is a JSON array", file("[1,2]"), "header is not a JSON object"],
    [
      "an unknown dtype",
      file({ a: { dtype: "F8", shape: [1], data_offsets: [0, 1] } }, [0]),
      /field "dtype" is "F8"/,
    ],
    [
      "offsets out of range",
      file({ a: { dtype: "F32", shape: [2], data_offsets: [0, 8] } }, [0, 0, 0, 0]),
      /data_offsets \[0, 8\] are outside the data section \(4 bytes\)/,
    ],
    [
      "a shape that does not match its byte size",
      file({ a: { dtype: "F32", shape: [3], data_offsets: [0, 8] } }, new Uint8Array(8)),
      /shape \[3\] of F32 needs 12 bytes but data_offsets span 8/,
    ],
    [
      "overlapping tensors",
      file(
        {
          a: { dtype: "F32", shape: [2], data_offsets: [0, 8] },
          b: { dtype: "F32", shape: [2], data_offsets: [4, 12] },
        },
        new Uint8Array(12),
      ),
      /tensors "a" and "b" overlap/,
    ],
    [
      "absurd dimensions",
      file({ a: { dtype: "F32", shape: [1e15, 1e15], data_offsets: [0, 4] } }, new Uint8Array(4)),
      /needs more bytes than the file holds/,
    ],
    [
      "a negative dim",
      file({ a: { dtype: "F32", shape: [-1], data_offsets: [0, 4] } }, new Uint8Array(4)),
      /invalid dim -1/,
    ],
    ["non-string metadata", file({ __metadata__: { a: 1 } }), '__metadata__ field "a" is not a string'],
  ];
  for (const [what, bytes, message] of bad) {
    it(`refuses ${what} with a clear error`, () => {
      expect(() => io.loadSafetensors(bytes)).toThrow(message);
    });
  }

  it("survives fuzzing: every mutated file loads or throws an Error, quickly", async () => {
    const valid = await io.saveSafetensors({
      a: T.randn([3, 4], { seed: 1 }),
      b: T.tensor([1, 2, 3], { dtype: "int32" }),
    });
    const gen = new Generator(42);
    const start = Date.now();
    let errors = 0;
    for (let i = 0; i < 3000; i++) {
      const b = valid.slice(0, i % 10 === 0 ? gen.int(0, valid.length + 1) : valid.length);
      const flips = gen.int(1, 6);
      for (let f = 0; f < flips && b.length > 0; f++) {
        const pos = gen.int(0, Math.min(b.length, i % 3 === 0 ? 8 : b.length));
        b[pos] = gen.int(0, 256);
      }
      try {
        io.loadSafetensors(b);
      } catch (e) {
        expect(e).toBeInstanceOf(Error);
        expect((e as Error).message).toMatch(/safetensors/);
        errors++;
      }
    }
    // random headers built from plausible pieces
    const dtypes = ["F32", "F64", "F16", "BF16", "I32", "I64", "U8", "BOOL", "X"];
    for (let i = 0; i < 1000; i++) {
      const n = () => [0, 1, 2, 3, 4, 7, 8, 16, -1, 2 ** 53, 1e300, 0.5][gen.int(0, 12)];
      const header = {
        t: {
          dtype: dtypes[gen.int(0, dtypes.length)],
          shape: [n(), n()].slice(0, gen.int(0, 3)),
          data_offsets: [n(), n()],
        },
      };
      try {
        io.loadSafetensors(file(header, new Uint8Array(gen.int(0, 40))));
      } catch (e) {
        expect(e).toBeInstanceOf(Error);
        errors++;
      }
    }
    expect(errors).toBeGreaterThan(1000);
    expect(Date.now() - start).toBeLessThan(30_000);
  });

  it("writes atomically and reads one tensor at a time from a file", async () => {
    const path = join(dir, "model.safetensors");
    const big = T.randn([256, 256], { seed: 2 });
    const small = T.tensor([1, 2, 3]);
    await io.writeSafetensors(path, { big, small }, { note: "x" });
    const f = await io.SafetensorsFile.open(path);
    expect(f.keys()).toEqual(["big", "small"]);
    expect(f.info("small")).toMatchObject({ dtype: "F32", shape: [3] });
    expect(f.metadata).toEqual({ note: "x" });
    const s = await f.tensor("small");
    expect(Array.from(await s.data())).toEqual([1, 2, 3]);
    await expect(f.tensor("nope")).rejects.toThrow(`${path}: no tensor named "nope"`);
    await f.close();
    const all = await io.readSafetensors(path);
    expect(Array.from(await all.tensors.big.data())).toEqual(Array.from(await big.data()));
  });

  it("opens a 3 GB file and reads one tensor without loading the rest", async () => {
    const { openSync, writeSync, ftruncateSync, closeSync } = await import("node:fs");
    const path = join(dir, "big.safetensors");
    const bigBytes = 3 * 2 ** 30;
    const header = {
      small: { dtype: "F32", shape: [2], data_offsets: [0, 8] },
      big: { dtype: "U8", shape: [bigBytes], data_offsets: [8, 8 + bigBytes] },
    };
    const head = file(header, new Uint8Array(new Float32Array([1.5, -2]).buffer));
    const fd = openSync(path, "w");
    writeSync(fd, head);
    // a sparse file: the 3 GB tensor takes no disk space and is never read
    ftruncateSync(fd, head.length + bigBytes);
    closeSync(fd);
    const f = await io.SafetensorsFile.open(path);
    expect(f.info("big").shape).toEqual([bigBytes]);
    const s = await f.tensor("small");
    expect(Array.from(await s.data())).toEqual([1.5, -2]);
    await f.close();
    rmSync(path);
  });

  it("a truncated file on disk is refused with its path", async () => {
    const { writeFileSync } = await import("node:fs");
    const path = join(dir, "truncated.safetensors");
    const bytes = await io.saveSafetensors({ a: T.ones([100]) });
    writeFileSync(path, bytes.subarray(0, bytes.length - 10));
    await expect(io.SafetensorsFile.open(path)).rejects.toThrow(
      `${path}: tensor "a": data_offsets [0, 400] are outside the data section`,
    );
  });
});
