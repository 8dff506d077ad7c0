import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Backend, contiguousStrides, numel, type View } from "../../src/backend/backend.js";
import { CpuBackend } from "../../src/backend/cpu/index.js";
import { createBackend, type WasmCpuBackend } from "../../src/backend/wasm/index.js";

let fast: WasmCpuBackend;
const reference = new CpuBackend();
beforeAll(async () => {
  fast = await createBackend({ threads: 2 });
});
afterAll(() => fast.dispose());

let seed = 7;
function random(): number {
  seed = (seed * 1664525 + 1013904223) >>> 0;
  return seed / 2 ** 32 - 0.5;
}

/** Returns the same random data as a contiguous view on each backend (of `shape`, seen through `perm`). */
function pair(shape: number[], perm?: number[]): [View, View] {
  const n = numel(shape);
  const data = new Float32Array(n).map(() => random());
  const views = [fast as Backend, reference as Backend].map((be) => {
    const buffer = be.allocate(n, "float32");
    be.write(buffer, data);
    const strides = contiguousStrides(shape);
    const p = perm ?? shape.map((_, i) => i);
    return { buffer, shape: p.map((i) => shape[i]), strides: p.map((i) => strides[i]), offset: 0 };
  });
  return [views[0], views[1]];
}

/** Returns a view broadcasting `v` to `shape` (stride 0 on the new leading and size-1 dims). */
function expand(v: View, shape: number[]): View {
  const lead = shape.length - v.shape.length;
  const strides = shape.map((d, i) => (i < lead || v.shape[i - lead] === 1 ? 0 : v.strides[i - lead]));
  return { ...v, shape, strides };
}

async function matmulDiff(a: [View, View], b: [View, View], outShape: number[]): Promise<number> {
  const n = numel(outShape);
  const outs = [fast.allocate(n, "float32"), reference.allocate(n, "float32")];
  fast.matmul(a[0], b[0], outs[0]);
  reference.matmul(a[1], b[1], outs[1]);
  const x = await fast.read(outs[0]);
  const y = await reference.read(outs[1]);
  let err = 0;
  for (let i = 0; i < n; i++) err = Math.max(err, Math.abs(x[i] - y[i]));
  fast.release(outs[0]);
  return err;
}

describe("cpu-wasm backend matmul against the reference", () => {
  for (const [M, K, N] of [
    [1, 1, 1],
    [7, 33, 257],
    [257, 7, 33],
    [33, 257, 1],
  ]) {
    it(`matches for [${M},${K}] @ [${K},${N}] plain and transposed`, async () => {
      expect(await matmulDiff(pair([M, K]), pair([K, N]), [M, N])).toBeLessThan(1e-3);
      expect(await matmulDiff(pair([K, M], [1, 0]), pair([N, K], [1, 0]), [M, N])).toBeLessThan(1e-3);
    });
  }

  it("broadcasts batch dims (stride 0) and reads permuted batches in place", async () => {
    const [a0, a1] = pair([3, 1, 7, 33]);
    const [b0, b1] = pair([4, 33, 5]);
    const shapeA = [3, 4, 7, 33];
    const shapeB = [3, 4, 33, 5];
    expect(
      await matmulDiff(
        [expand(a0, shapeA), expand(a1, shapeA)],
        [expand(b0, shapeB), expand(b1, shapeB)],
        [3, 4, 7, 5],
      ),
    ).toBeLessThan(1e-4);
    // [B, L, H, D] seen as [B, H, L, D] (attention's head split), times its own transpose.
    const q = pair([2, 9, 3, 8], [0, 2, 1, 3]);
    const k = pair([2, 9, 3, 8], [0, 2, 3, 1]);
    expect(await matmulDiff(q, k, [2, 3, 9, 9])).toBeLessThan(1e-4);
  });

  it("keeps float64 on the reference kernel", async () => {
    const a = fast.allocate(6, "float64");
    fast.write(a, new Float64Array([1, 2, 3, 4, 5, 6]));
    const out = fast.allocate(4, "float64");
    const v = (shape: number[]): View => ({ buffer: a, shape, strides: contiguousStrides(shape), offset: 0 });
    fast.matmul(v([2, 3]), { buffer: a, shape: [3, 2], strides: [1, 3], offset: 0 }, out);
    expect([...(await fast.read(out))]).toEqual([14, 32, 32, 77]);
  });

  it("reuses freed blocks, so repeated steps keep memory flat", () => {
    const sizes = [1, 7, 33, 257, 4096];
    const step = () => {
      const bufs = sizes.map((s) => fast.allocate(s, "float32"));
      for (const b of bufs) fast.release(b);
    };
    step();
    const before = fast.memoryInfo();
    for (let i = 0; i < 500; i++) step();
    expect(fast.memoryInfo()).toEqual(before);
  });
});
