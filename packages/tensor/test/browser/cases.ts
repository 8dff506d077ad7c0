// A representative slice of the op suite as plain functions (no test runner), so the same checks
// run in Node and inside a browser page: each case runs one Backend method on the CPU reference and
// on WebGPU with the same data and returns the worst relative error.
import type { Backend, BufferHandle, DType, TypedArray, View } from "../../src/backend/backend.js";
import { contiguousStrides } from "../../src/backend/backend.js";
import { rand } from "../rand.js";

/** One check: its name, the tolerance, and a run returning the worst relative error. */
export interface BrowserCase {
  name: string;
  tol: number;
  run(cpu: Backend, gpu: Backend): Promise<number>;
}

type Side = { be: Backend; bufs: Map<string, BufferHandle> };

/** Runs `body` on both backends with the same named inputs and compares the named outputs. */
async function both(
  cpu: Backend,
  gpu: Backend,
  inputs: Record<string, { data: TypedArray; dtype?: DType }>,
  outputs: Record<string, { n: number; dtype?: DType }>,
  body: (
    be: Backend,
    b: (name: string, shape?: number[], strides?: number[]) => View,
    h: (name: string) => BufferHandle,
  ) => void,
): Promise<number> {
  let worst = 0;
  const results: TypedArray[][] = [];
  for (const be of [cpu, gpu]) {
    const side: Side = { be, bufs: new Map() };
    for (const [name, { data, dtype }] of Object.entries(inputs)) {
      const h = be.allocate(data.length, dtype ?? "float32");
      be.write(h, data);
      side.bufs.set(name, h);
    }
    for (const [name, { n, dtype }] of Object.entries(outputs))
      side.bufs.set(name, be.allocate(n, dtype ?? "float32"));
    const h = (name: string) => side.bufs.get(name) as BufferHandle;
    const b = (name: string, shape?: number[], strides?: number[]): View => {
      const buf = h(name);
      const s = shape ?? [buf.size];
      return { buffer: buf, shape: s, strides: strides ?? contiguousStrides(s), offset: 0 };
    };
    body(be, b, h);
    const outs: TypedArray[] = [];
    for (const name of Object.keys(outputs)) outs.push(await be.read(h(name)));
    results.push(outs);
    for (const buf of side.bufs.values()) be.release(buf);
  }
  const [c, g] = results;
  for (let k = 0; k < c.length; k++) {
    for (let i = 0; i < c[k].length; i++) {
      const x = Number(c[k][i]);
      const y = Number(g[k][i]);
      if (x === y || (Number.isNaN(x) && Number.isNaN(y))) continue;
      const e = Math.abs(x - y) / Math.max(1, Math.abs(x));
      worst = Number.isNaN(e) ? Number.POSITIVE_INFINITY : Math.max(worst, e);
    }
  }
  return worst;
}

const unaryOps = ["exp", "tanh", "sigmoid", "gelu", "silu", "softplus", "logSigmoid"] as const;

/** The checks the browser page runs. */
export const BROWSER_CASES: BrowserCase[] = [
  ...unaryOps.map<BrowserCase>((op) => ({
    name: `unary ${op} on a transposed view`,
    tol: 2e-5,
    run: (cpu, gpu) =>
      both(cpu, gpu, { x: { data: rand(12, 7) } }, { o: { n: 12 } }, (be, b, h) =>
        be.unary(op, b("x", [4, 3], [1, 4]), h("o")),
      ),
  })),
  {
    name: "binary mul with broadcast, and a comparison",
    tol: 1e-6,
    run: (cpu, gpu) =>
      both(
        cpu,
        gpu,
        { a: { data: rand(24, 1) }, c: { data: rand(4, 2) } },
        { o: { n: 24 }, m: { n: 24, dtype: "bool" } },
        (be, b, h) => {
          be.binary("mul", b("a", [2, 3, 4]), b("c", [2, 3, 4], [0, 0, 1]), h("o"));
          be.binary("gt", b("a", [2, 3, 4]), b("c", [2, 3, 4], [0, 0, 1]), h("m"));
        },
      ),
  },
  {
    name: "reduce sum and max, argmax",
    tol: 1e-5,
    run: (cpu, gpu) =>
      both(
        cpu,
        gpu,
        { x: { data: rand(3 * 50 * 7, 3) } },
        { s: { n: 21 }, m: { n: 3 }, i: { n: 21, dtype: "int32" } },
        (be, b, h) => {
          be.reduce("sum", b("x", [3, 50, 7]), [1], h("s"));
          be.reduce("max", b("x", [3, 50, 7]), [1, 2], h("m"));
          be.argReduce("argmax", b("x", [3, 50, 7]), 1, h("i"));
        },
      ),
  },
  ...(["plain", "transposed b"] as const).map<BrowserCase>((kind) => ({
    // N a multiple of 4: the subgroup kernel where the adapter has fixed-size subgroups
    name: `matmul ${kind}, vec4-aligned`,
    tol: 1e-4,
    run: (cpu, gpu) =>
      both(
        cpu,
        gpu,
        { a: { data: rand(2 * 37 * 24, 4) }, w: { data: rand(24 * 40, 5) } },
        { o: { n: 2 * 37 * 40 } },
        (be, b, h) =>
          be.matmul(
            b("a", [2, 37, 24]),
            kind === "plain" ? b("w", [2, 24, 40], [0, 40, 1]) : b("w", [2, 24, 40], [0, 1, 24]),
            h("o"),
          ),
      ),
  })),
  ...(["plain", "transposed b"] as const).map<BrowserCase>((kind) => ({
    name: `matmul ${kind}`,
    tol: 1e-4,
    run: (cpu, gpu) =>
      both(
        cpu,
        gpu,
        { a: { data: rand(2 * 19 * 24, 4) }, w: { data: rand(24 * 33, 5) } },
        { o: { n: 2 * 19 * 33 } },
        (be, b, h) =>
          be.matmul(
            b("a", [2, 19, 24]),
            kind === "plain" ? b("w", [2, 24, 33], [0, 33, 1]) : b("w", [2, 24, 33], [0, 1, 24]),
            h("o"),
          ),
      ),
  })),
  {
    name: "softmax and its backward",
    tol: 1e-5,
    run: (cpu, gpu) =>
      both(
        cpu,
        gpu,
        { x: { data: rand(5 * 70, 6, -20, 20) }, dy: { data: rand(5 * 70, 7) } },
        { y: { n: 350 }, dx: { n: 350 } },
        (be, b, h) => {
          be.softmax(b("x", [5, 70]), false, h("y"));
          be.softmaxBackward(b("y", [5, 70]), b("dy", [5, 70]), false, h("dx"));
        },
      ),
  },
  {
    name: "crossEntropy forward and backward",
    tol: 1e-5,
    run: (cpu, gpu) =>
      both(
        cpu,
        gpu,
        {
          x: { data: rand(4 * 30, 8, -10, 10) },
          t: { data: Int32Array.from([1, -100, 29, 0]), dtype: "int32" },
          dl: { data: rand(4, 9) },
        },
        { loss: { n: 4 }, lse: { n: 4 }, dx: { n: 120 } },
        (be, b, h) => {
          be.crossEntropy(b("x", [4, 30]), b("t"), -100, 0.1, h("loss"), h("lse"));
          be.crossEntropyBackward(b("x", [4, 30]), b("t"), b("lse"), b("dl"), -100, 0.1, h("dx"));
        },
      ),
  },
  {
    name: "layerNorm forward and backward",
    tol: 1e-4,
    run: (cpu, gpu) =>
      both(
        cpu,
        gpu,
        {
          x: { data: rand(6 * 40, 10) },
          w: { data: rand(40, 11) },
          bias: { data: rand(40, 12) },
          dy: { data: rand(240, 13) },
        },
        { o: { n: 240 }, mean: { n: 6 }, rstd: { n: 6 }, dx: { n: 240 }, dw: { n: 40 }, db: { n: 40 } },
        (be, b, h) => {
          be.norm(b("x", [6, 40]), b("w"), b("bias"), 1e-5, false, h("o"), h("mean"), h("rstd"));
          be.normBackward(
            b("x", [6, 40]),
            b("w"),
            b("mean"),
            b("rstd"),
            b("dy", [6, 40]),
            false,
            h("dx"),
            h("dw"),
            h("db"),
          );
        },
      ),
  },
  {
    name: "causal grouped-query attention forward and backward",
    tol: 1e-4,
    run: (cpu, gpu) => {
      const [B, Hq, Hkv, L, D] = [1, 4, 2, 5, 8];
      const nq = B * Hq * L * D;
      const nk = B * Hkv * L * D;
      return both(
        cpu,
        gpu,
        {
          q: { data: rand(nq, 14) },
          k: { data: rand(nk, 15) },
          v: { data: rand(nk, 16) },
          dO: { data: rand(nq, 17) },
        },
        { o: { n: nq }, lse: { n: B * Hq * L }, dq: { n: nq }, dk: { n: nk }, dv: { n: nk } },
        (be, b, h) => {
          const opts = { scale: 1 / Math.sqrt(D), causal: true };
          const q = b("q", [B, Hq, L, D]);
          const k = b("k", [B, Hkv, L, D]);
          const v = b("v", [B, Hkv, L, D]);
          be.attention(q, k, v, null, opts, h("o"), h("lse"));
          be.attentionBackward(
            q,
            k,
            v,
            null,
            opts,
            b("o", [B, Hq, L, D]),
            b("lse", [B, Hq, L]),
            b("dO", [B, Hq, L, D]),
            h("dq"),
            h("dk"),
            h("dv"),
          );
        },
      );
    },
  },
  {
    name: "embedding gather and its scatter-add backward",
    tol: 1e-6,
    run: (cpu, gpu) =>
      both(
        cpu,
        gpu,
        {
          w: { data: rand(10 * 6, 18) },
          idx: { data: Int32Array.from([3, 3, 9, 0]), dtype: "int32" },
          g: { data: rand(24, 19) },
        },
        { o: { n: 24 }, dw: { n: 60 } },
        (be, b, h) => {
          be.indexSelect(b("w", [10, 6]), b("idx"), 0, h("o"));
          be.fill(b("dw"), 0);
          be.indexAdd(h("dw"), [10, 6], b("idx"), b("g", [4, 6]), 0);
        },
      ),
  },
  {
    name: "adamw step",
    tol: 1e-5,
    run: (cpu, gpu) =>
      both(
        cpu,
        gpu,
        {
          p: { data: rand(100, 20) },
          g: { data: rand(100, 21) },
          m: { data: rand(100, 22, 0, 0.1) },
          v: { data: rand(100, 23, 0, 0.1) },
        },
        { dummy: { n: 1 } },
        (be, b, h) => {
          be.adamw(h("p"), b("g"), h("m"), h("v"), {
            lr: 0.01,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weightDecay: 0.1,
            step: 2,
          });
          be.copy(b("p", [1]), b("dummy"));
        },
      ),
  },
];

/** Runs every case; returns one line per case and whether all passed. */
export async function runBrowserCases(
  cpu: Backend,
  gpu: Backend,
): Promise<{ name: string; error: number; tol: number; ok: boolean; message?: string }[]> {
  const out = [];
  for (const c of BROWSER_CASES) {
    try {
      const error = await c.run(cpu, gpu);
      out.push({ name: c.name, error, tol: c.tol, ok: error <= c.tol });
    } catch (err) {
      out.push({
        name: c.name,
        error: Number.POSITIVE_INFINITY,
        tol: c.tol,
        ok: false,
        message: String((err as Error).message ?? err),
      });
    }
  }
  return out;
}
