// Hostile safetensors files, seeded: every mutated file either decodes or fails with an Error naming
// the file, in bounded time; names such as `__proto__` round-trip as tensors; no header is slow.
import { Rng } from "@sr2se/core";
import { describe, expect, it } from "vitest";
import { io } from "../src/index.js";

const WHERE = "fuzz.safetensors";
/** Cases of each mutation kind; SR2SE_FUZZ_CASES raises them locally. */
const CASES = Number(process.env.SR2SE_FUZZ_CASES) || 600;
const HOSTILE_NAMES = [
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "hasOwnProperty",
  "__metadata__x",
];
const HOSTILE_DTYPES = [
  "constructor",
  "__proto__",
  "toString",
  "valueOf",
  "F8_E4M3",
  "f32",
  "",
  "I16",
  "C64",
];

function randomFile(rng: Rng): { bytes: Uint8Array; names: string[] } {
  const n = rng.int(1, 4);
  const tensors = new Map<string, io.HostArray>();
  for (let i = 0; i < n; i++) {
    const name = rng.next() < 0.5 ? (HOSTILE_NAMES[rng.int(0, HOSTILE_NAMES.length)] as string) : `t${i}`;
    const shape = [rng.int(0, 4), rng.int(1, 3)];
    const numel = shape[0]! * shape[1]!;
    const data = Float32Array.from({ length: numel }, () => rng.float(-1, 1));
    tensors.set(name, { dtype: "float32", shape, data });
  }
  return { bytes: io.encodeSafetensors(tensors, { note: "fuzz" }), names: [...tensors.keys()].sort() };
}

/** Returns a file with its header JSON replaced (the data section kept), the length field updated. */
function withHeader(bytes: Uint8Array, header: string): Uint8Array {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const json = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + json.length + (bytes.length - 8 - n));
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(bytes.subarray(8 + n), 8 + json.length);
  return out;
}

function headerOf(bytes: Uint8Array): Record<string, unknown> {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
}

/** Decodes `bytes`: fine, or an Error that names the file; either within `ms`. */
function expectDecodesOrNamesFile(bytes: Uint8Array, ms = 200): "ok" | "refused" {
  const started = performance.now();
  let outcome: "ok" | "refused" = "ok";
  try {
    const { tensors } = io.decodeSafetensors(bytes, WHERE);
    for (const t of tensors.values()) expect(t.data.length).toBe(t.shape.reduce((a, b) => a * b, 1));
  } catch (err) {
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message.startsWith(`${WHERE}:`), (err as Error).message).toBe(true);
    outcome = "refused";
  }
  expect(performance.now() - started).toBeLessThan(ms);
  return outcome;
}

describe("safetensors fuzz", () => {
  it(`hostile tensor names round-trip as own entries (${CASES} files)`, () => {
    const rng = new Rng("names");
    for (let i = 0; i < CASES; i++) {
      const { bytes, names } = randomFile(rng);
      const { tensors } = io.decodeSafetensors(bytes, WHERE);
      expect([...tensors.keys()].sort()).toEqual(names);
      const loaded = io.loadSafetensors(bytes).tensors;
      expect(Object.keys(loaded).sort()).toEqual(names);
      expect(Object.getPrototypeOf(loaded)).toBe(Object.prototype);
    }
  });

  it(`unknown dtypes, including Object.prototype's names, are refused naming the dtype (${CASES} files)`, () => {
    const rng = new Rng("dtypes");
    for (let i = 0; i < CASES; i++) {
      const { bytes, names } = randomFile(rng);
      const header = headerOf(bytes);
      const victim = names[rng.int(0, names.length)] as string;
      const dtype = HOSTILE_DTYPES[rng.int(0, HOSTILE_DTYPES.length)] as string;
      (header[victim] as { dtype: string }).dtype = dtype;
      expect(() => io.decodeSafetensors(withHeader(bytes, JSON.stringify(header)), WHERE)).toThrow(
        `${WHERE}: tensor "${victim}": field "dtype" is ${JSON.stringify(dtype)}, expected one of`,
      );
    }
  });

  it(`random byte flips, truncations and field edits decode or are refused naming the file (${CASES * 3} files)`, () => {
    const rng = new Rng("mutations");
    const seen = { ok: 0, refused: 0 };
    for (let i = 0; i < CASES; i++) {
      const { bytes } = randomFile(rng);
      // a byte flipped anywhere (length field, header or data)
      const flipped = bytes.slice();
      flipped[rng.int(0, flipped.length)] ^= 1 << rng.int(0, 8);
      seen[expectDecodesOrNamesFile(flipped)]++;
      // cut short
      seen[expectDecodesOrNamesFile(bytes.subarray(0, rng.int(0, bytes.length)))]++;
      // a field of one entry set to a hostile value
      const header = headerOf(bytes);
      const names = Object.keys(header).filter((k) => k !== "__metadata__");
      const entry = header[names[rng.int(0, names.length)] as string] as Record<string, unknown>;
      const field = ["shape", "data_offsets", "dtype"][rng.int(0, 3)] as string;
      const values = [
        null,
        -1,
        2 ** 60,
        [2 ** 53, 2 ** 53],
        [1e308],
        "x",
        {},
        [[1]],
        Array(40).fill(1),
        [0, -1],
      ];
      entry[field] = values[rng.int(0, values.length)];
      seen[expectDecodesOrNamesFile(withHeader(bytes, JSON.stringify(header)))]++;
    }
    expect(seen.refused).toBeGreaterThan(CASES);
    expect(seen.ok).toBeGreaterThan(0);
  });

  it("a header of many spaces, deep nesting or a megabyte string is parsed or refused in linear time", () => {
    const { bytes } = randomFile(new Rng("slow"));
    const mb = 1 << 20;
    for (const header of [
      `{${" ".repeat(mb / 16)}x}`, // spaces not at the end: quadratic for / +$/ (10 s at 64 KiB)
      `${" ".repeat(mb)}{}`,
      `{"__metadata__":{"a":"${"b".repeat(mb)}"}}`,
      `{"__metadata__":${"[".repeat(mb / 8)}${"]".repeat(mb / 8)}}`,
      `{"__proto__":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}${" ".repeat(mb)}`,
    ])
      expectDecodesOrNamesFile(withHeader(bytes, header), 1000);
  });
});
