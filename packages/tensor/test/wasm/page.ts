// The browser page's script: the fast CPU backend (bundled; WebAssembly SIMD on Web Workers over a
// shared memory, which needs a cross-origin isolated page) against the reference on a few kernels.
import type { Backend, View } from "../../src/backend/backend.js";
import { contiguousStrides } from "../../src/backend/backend.js";
import { CpuBackend } from "../../src/backend/cpu/index.js";
import { createBackend } from "../../src/backend/wasm/index.js";

interface PageResults {
  isolated?: boolean;
  threads?: number;
  cases?: { name: string; error: number }[];
  error?: string;
}

const w = window as unknown as { __results?: PageResults };

function data(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  });
}

async function compare(
  name: string,
  fast: Backend,
  ref: Backend,
  shapes: number[][],
  run: (be: Backend, v: View[], out: View) => void,
  outSize: number,
) {
  const outs = await Promise.all(
    [fast, ref].map(async (be) => {
      const views = shapes.map((shape, i) => {
        const n = shape.reduce((a, b) => a * b, 1);
        const buffer = be.allocate(n, "float32");
        be.write(buffer, data(n, i + 1));
        return { buffer, shape, strides: contiguousStrides(shape), offset: 0 };
      });
      const out = be.allocate(outSize, "float32");
      run(be, views, { buffer: out, shape: [outSize], strides: [1], offset: 0 });
      return be.read(out);
    }),
  );
  let error = 0;
  for (let i = 0; i < outSize; i++) error = Math.max(error, Math.abs(outs[0][i] - outs[1][i]));
  return { name, error };
}

try {
  const fast = await createBackend({ threads: 2 });
  const ref = new CpuBackend();
  const cases = [
    await compare(
      "matmul [67,257]@[257,129]",
      fast,
      ref,
      [
        [67, 257],
        [257, 129],
      ],
      (be, [a, b], o) => be.matmul(a, b, o.buffer),
      67 * 129,
    ),
    await compare(
      "matmul 2 threads [300,300]@[300,300]",
      fast,
      ref,
      [
        [300, 300],
        [300, 300],
      ],
      (be, [a, b], o) => be.matmul(a, b, o.buffer),
      300 * 300,
    ),
    await compare(
      "softmax [33,257]",
      fast,
      ref,
      [[33, 257]],
      (be, [x], o) => be.softmax(x, false, o.buffer),
      33 * 257,
    ),
    await compare("silu [4099]", fast, ref, [[4099]], (be, [x], o) => be.unary("silu", x, o.buffer), 4099),
  ];
  w.__results = { isolated: globalThis.crossOriginIsolated, threads: fast.runtime.threads, cases };
  fast.dispose();
} catch (err) {
  w.__results = { isolated: globalThis.crossOriginIsolated, error: String((err as Error).stack ?? err) };
}
