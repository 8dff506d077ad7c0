import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Backend,
  type BinaryOp,
  type BufferHandle,
  contiguousStrides,
  numel,
  type UnaryOp,
  type View,
} from "../../src/backend/backend.js";
import { CpuBackend } from "../../src/backend/cpu/index.js";
import { createBackend, type WasmCpuBackend } from "../../src/backend/wasm/index.js";
import { BINARY_F32X4, UNARY_F32X4 } from "../../src/backend/wasm/kernels/elementwise.js";

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
  const strides = shape.map((_, i) => (i < lead || v.shape[i - lead] === 1 ? 0 : v.strides[i - lead]));
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

async function readPair(bufs: BufferHandle[]): Promise<number> {
  const x = await fast.read(bufs[0]);
  const y = await reference.read(bufs[1]);
  let err = 0;
  for (let i = 0; i < x.length; i++) {
    if (Number.isFinite(y[i]) || Number.isFinite(x[i])) err = Math.max(err, Math.abs(x[i] - y[i]));
    else if (x[i] !== y[i]) return Number.POSITIVE_INFINITY;
  }
  fast.release(bufs[0]);
  return err;
}

function outPair(n: number): BufferHandle[] {
  return [fast.allocate(n, "float32"), reference.allocate(n, "float32")];
}

describe("cpu-wasm backend softmax against the reference", () => {
  for (const C of [1, 7, 33, 257]) {
    it(`matches softmax and logSoftmax over rows of ${C}`, async () => {
      for (const log of [false, true]) {
        const x = pair([5, C]);
        for (const v of x)
          for (let i = 0; i < 5 * C; i++) (v.buffer as unknown as { data: Float32Array }).data[i] *= 30;
        const outs = outPair(5 * C);
        fast.softmax(x[0], log, outs[0]);
        reference.softmax(x[1], log, outs[1]);
        expect(await readPair(outs)).toBeLessThan(1e-5);
      }
    });
  }
});

describe("cpu-wasm backend attention against the reference", () => {
  const cases: {
    B: number;
    Hq: number;
    Hkv: number;
    Lq: number;
    Lk: number;
    D: number;
    causal: boolean;
    mask?: "keys" | "full";
  }[] = [
    { B: 1, Hq: 1, Hkv: 1, Lq: 1, Lk: 1, D: 1, causal: false },
    { B: 2, Hq: 4, Hkv: 2, Lq: 7, Lk: 33, D: 8, causal: true },
    { B: 2, Hq: 3, Hkv: 3, Lq: 33, Lk: 33, D: 7, causal: true, mask: "keys" },
    { B: 1, Hq: 2, Hkv: 1, Lq: 33, Lk: 7, D: 33, causal: true },
    { B: 1, Hq: 2, Hkv: 2, Lq: 9, Lk: 257, D: 16, causal: false, mask: "full" },
  ];
  for (const c of cases) {
    it(`matches forward and backward for ${JSON.stringify(c)}`, async () => {
      const { B, Hq, Hkv, Lq, Lk, D } = c;
      // q arrives as [B, L, H, D] seen as [B, H, L, D], like a projection split into heads.
      const q = pair([B, Lq, Hq, D], [0, 2, 1, 3]);
      const k = pair([B, Lk, Hkv, D], [0, 2, 1, 3]);
      const v = pair([B, Hkv, Lk, D]);
      let mask: [View, View] | [null, null] = [null, null];
      if (c.mask === "keys") {
        const m = pair([B, 1, 1, Lk]);
        for (const view of m) {
          const data = (view.buffer as unknown as { data: Float32Array }).data;
          for (let i = 0; i < data.length; i++) data[i] = data[i] > 0.3 ? Number.NEGATIVE_INFINITY : data[i];
        }
        mask = [expand(m[0], [B, Hq, Lq, Lk]), expand(m[1], [B, Hq, Lq, Lk])];
      } else if (c.mask === "full") {
        const m = pair([B, Hq, Lq, Lk]);
        mask = [m[0], m[1]];
      }
      const options = { scale: 1 / Math.sqrt(D), causal: c.causal };
      const outs = outPair(B * Hq * Lq * D);
      const lses = outPair(B * Hq * Lq);
      fast.attention(q[0], k[0], v[0], mask[0], options, outs[0], lses[0]);
      reference.attention(q[1], k[1], v[1], mask[1], options, outs[1], lses[1]);
      const dOut = pair([B, Hq, Lq, D]);
      const grads = [outPair(B * Hq * Lq * D), outPair(B * Hkv * Lk * D), outPair(B * Hkv * Lk * D)];
      const view = (b: BufferHandle, shape: number[]): View => ({
        buffer: b,
        shape,
        strides: contiguousStrides(shape),
        offset: 0,
      });
      [fast as Backend, reference as Backend].forEach((be, i) => {
        be.attentionBackward(
          q[i],
          k[i],
          v[i],
          mask[i],
          options,
          view(outs[i], [B, Hq, Lq, D]),
          view(lses[i], [B, Hq, Lq]),
          dOut[i],
          grads[0][i],
          grads[1][i],
          grads[2][i],
        );
      });
      expect(await readPair(outs)).toBeLessThan(1e-5);
      expect(await readPair(lses)).toBeLessThan(1e-5);
      for (const g of grads) expect(await readPair(g)).toBeLessThan(1e-4);
    });
  }
});

/**
 * Derivative kernels defined only for x > 0 or unbounded near 0 (the first operand): they are compared
 * for x ≥ 1, where the absolute tolerance measures rounding rather than the size of 1/x².
 */
const POSITIVE_X = new Set<string>(["logGrad", "sqrtGrad", "rsqrtGrad", "reciprocalGrad"]);

/** Moves a pair's data into [1, ∞) in place. */
function positive(v: [View, View]): void {
  for (const view of v) {
    const data = (view.buffer as unknown as { data: Float32Array }).data;
    for (let i = 0; i < data.length; i++) data[i] = Math.abs(data[i]) + 1;
  }
}

describe("cpu-wasm backend elementwise kernels against the reference", () => {
  const unaryOps = Object.keys(UNARY_F32X4) as UnaryOp[];
  const binaryOps = Object.keys(BINARY_F32X4) as BinaryOp[];
  const params: Partial<Record<string, number[]>> = {
    affine: [1.5, -0.25],
    clamp: [-0.2, 0.3],
    affineGrad: [1.5, -0.25],
    clampGrad: [-0.2, 0.3],
  };

  /** Scales the shared random data so exp/sigmoid see large magnitudes too. */
  function spread(v: [View, View], by: number): [View, View] {
    for (const view of v) {
      const data = (view.buffer as unknown as { data: Float32Array }).data;
      for (let i = 0; i < data.length; i++) data[i] *= by;
    }
    return v;
  }

  for (const n of [1031, 4099]) {
    it(`matches every unary op on ${n} elements`, async () => {
      for (const op of unaryOps) {
        const x = spread(pair([n]), op === "exp" ? 40 : 20);
        if (op === "sqrt" || op === "rsqrt")
          for (const v of x)
            (v.buffer as unknown as { data: Float32Array }).data.forEach((e, i, d) => {
              d[i] = Math.abs(e) + 0.1;
            });
        const outs = outPair(n);
        fast.unary(op, x[0], outs[0], params[op]);
        reference.unary(op, x[1], outs[1], params[op]);
        const x0 = await fast.read(outs[0]);
        const y0 = await reference.read(outs[1]);
        for (let i = 0; i < n; i++) {
          expect(Math.abs(x0[i] - y0[i]), `${op} at ${i}`).toBeLessThanOrEqual(
            1e-6 * Math.max(1, Math.abs(y0[i])),
          );
        }
        fast.release(outs[0]);
      }
    });
  }

  it("matches every binary op, with the right operand repeating or scalar, and a repeating left operand swapped", async () => {
    const cases: [number[], number[], number[]][] = [
      // [out shape, a shape (broadcast to out), b shape]
      [
        [7, 257],
        [7, 257],
        [7, 257],
      ],
      [[7, 257], [7, 257], [257]],
      [
        [9, 130],
        [9, 130],
        [1, 130],
      ],
      [[33, 33], [33, 33], [1]],
      [
        [5, 7, 64],
        [5, 7, 64],
        [7, 64],
      ],
      [[9, 130], [130], [9, 130]],
    ];
    for (const [shape, as, bs] of cases) {
      for (const op of binaryOps) {
        const a = spread(pair(as), 8);
        if (POSITIVE_X.has(op)) positive(a);
        const b = spread(pair(bs), op === "div" ? 0 : 4);
        if (op === "div") for (const v of b) (v.buffer as unknown as { data: Float32Array }).data.fill(1.75);
        const outs = outPair(numel(shape));
        fast.binary(op, expand(a[0], shape), expand(b[0], shape), outs[0], params[op]);
        reference.binary(op, expand(a[1], shape), expand(b[1], shape), outs[1], params[op]);
        expect(await readPair(outs), `${op} ${JSON.stringify([shape, as, bs])}`).toBeLessThan(1e-5);
      }
    }
  });
});

describe("cpu-wasm backend strided binary kernels against the reference", () => {
  /** Returns the view of the first or second half of the last dim. */
  const half = (v: View, second: boolean): View => {
    const n = v.shape.length;
    const h = v.shape[n - 1] / 2;
    return {
      ...v,
      shape: [...v.shape.slice(0, n - 1), h],
      offset: v.offset + (second ? h * v.strides[n - 1] : 0),
    };
  };

  it("matches every binary op on halves of the last dim (a rotary split), permuted views and row broadcasts", async () => {
    for (const op of Object.keys(BINARY_F32X4) as BinaryOp[]) {
      const x = pair([3, 5, 7, 66]);
      if (POSITIVE_X.has(op)) positive(x);
      const outsHalf = outPair(3 * 5 * 7 * 33);
      fast.binary(op, half(x[0], false), half(x[0], true), outsHalf[0]);
      reference.binary(op, half(x[1], false), half(x[1], true), outsHalf[1]);
      expect(await readPair(outsHalf), `${op} halves`).toBeLessThan(1e-5);

      const p = pair([6, 9, 4, 35], [0, 2, 1, 3]);
      if (POSITIVE_X.has(op)) positive(p);
      const q = pair([6, 4, 9, 35]);
      const outsPerm = outPair(6 * 4 * 9 * 35);
      fast.binary(op, p[0], q[0], outsPerm[0]);
      reference.binary(op, p[1], q[1], outsPerm[1]);
      expect(await readPair(outsPerm), `${op} permuted`).toBeLessThan(1e-5);

      const r = pair([40, 1]);
      const big = pair([40, 33], [1, 0]);
      if (POSITIVE_X.has(op)) positive(big);
      const outsRow = outPair(33 * 40);
      fast.binary(op, big[0], { ...r[0], shape: [33, 40], strides: [0, 1] }, outsRow[0]);
      reference.binary(op, big[1], { ...r[1], shape: [33, 40], strides: [0, 1] }, outsRow[1]);
      expect(await readPair(outsRow), `${op} transposed left, repeated right`).toBeLessThan(1e-5);

      const col = pair([33, 1]);
      const m = pair([33, 40]);
      if (POSITIVE_X.has(op)) positive(m);
      const outsCol = outPair(33 * 40);
      fast.binary(op, m[0], { ...col[0], shape: [33, 40], strides: [1, 0] }, outsCol[0]);
      reference.binary(op, m[1], { ...col[1], shape: [33, 40], strides: [1, 0] }, outsCol[1]);
      expect(await readPair(outsCol), `${op} column broadcast`).toBeLessThan(1e-5);
    }
  });
});

describe("cpu-wasm backend fused training kernels against the reference", () => {
  const backends = (): Backend[] => [fast, reference];
  const view = (b: BufferHandle, shape: number[]): View => ({
    buffer: b,
    shape,
    strides: contiguousStrides(shape),
    offset: 0,
  });

  for (const D of [1, 7, 33, 257]) {
    it(`matches LayerNorm and RMSNorm forward and backward over rows of ${D}`, async () => {
      const R = 37;
      for (const rms of [false, true]) {
        for (const affine of [true, false]) {
          const x = pair([R, D]);
          const w = affine ? pair([D]) : [null, null];
          const b = affine && !rms ? pair([D]) : [null, null];
          const outs = outPair(R * D);
          const means = outPair(R);
          const rstds = outPair(R);
          for (const [i, be] of backends().entries())
            be.norm(x[i], w[i], b[i], 1e-5, rms, outs[i], means[i], rstds[i]);
          const dy = pair([R, D]);
          const dxs = outPair(R * D);
          const dws = affine ? outPair(D) : [null, null];
          const dbs = affine ? outPair(D) : [null, null];
          for (const [i, be] of backends().entries()) {
            be.normBackward(
              x[i],
              w[i],
              view(means[i], [R]),
              view(rstds[i], [R]),
              dy[i],
              rms,
              dxs[i],
              dws[i],
              dbs[i],
            );
          }
          const what = `rms=${rms} affine=${affine}`;
          expect(await readPair(outs), what).toBeLessThan(1e-5);
          expect(await readPair(rstds), what).toBeLessThan(1e-3);
          expect(await readPair(dxs), what).toBeLessThan(1e-4);
          if (dws[0] && dws[1]) expect(await readPair([dws[0], dws[1]]), what).toBeLessThan(1e-4);
          if (dbs[0] && dbs[1]) expect(await readPair([dbs[0], dbs[1]]), what).toBeLessThan(1e-4);
        }
      }
    });
  }

  it("norm backward's weight and bias gradients are the same bits on every run (threads split rows the same way)", async () => {
    // big enough for every thread to take part; with rows claimed dynamically, which rows went to
    // which thread's partial sums changed from run to run, and so did the last bits of the sums
    const R = 301;
    const D = 96;
    const x = pair([R, D]);
    const w = pair([D]);
    const b = pair([D]);
    const out = fast.allocate(R * D, "float32");
    const mean = fast.allocate(R, "float32");
    const rstd = fast.allocate(R, "float32");
    fast.norm(x[0], w[0], b[0], 1e-5, false, out, mean, rstd);
    const dy = pair([R, D]);
    const runs: string[] = [];
    for (let i = 0; i < 12; i++) {
      const dx = fast.allocate(R * D, "float32");
      const dw = fast.allocate(D, "float32");
      const db = fast.allocate(D, "float32");
      fast.normBackward(x[0], w[0], view(mean, [R]), view(rstd, [R]), dy[0], false, dx, dw, db);
      const bits = [
        ...new Uint32Array((await fast.read(dw)).buffer),
        ...new Uint32Array((await fast.read(db)).buffer),
      ];
      runs.push(bits.join(","));
      for (const h of [dx, dw, db]) fast.release(h);
    }
    expect(new Set(runs).size).toBe(1);
  });

  it("norm backward's weight and bias gradients are the same bits for 1, 2 and 3 threads", async () => {
    // the partial sums follow a split of the rows that does not depend on the thread count, so a
    // training run gives the same bits on a machine with more or fewer cores
    const R = 301;
    const D = 96;
    const data = (n: number, k: number) => new Float32Array(n).map((_, i) => Math.sin(i * 0.37 + k));
    const bits: string[] = [];
    for (const threads of [1, 2, 3]) {
      const be = await createBackend({ threads });
      try {
        const put = (values: Float32Array, shape: number[]) => {
          const buffer = be.allocate(values.length, "float32");
          be.write(buffer, values);
          return view(buffer, shape);
        };
        const x = put(data(R * D, 1), [R, D]);
        const w = put(data(D, 2), [D]);
        const b = put(data(D, 3), [D]);
        const out = be.allocate(R * D, "float32");
        const mean = be.allocate(R, "float32");
        const rstd = be.allocate(R, "float32");
        be.norm(x, w, b, 1e-5, false, out, mean, rstd);
        const dx = be.allocate(R * D, "float32");
        const dw = be.allocate(D, "float32");
        const db = be.allocate(D, "float32");
        be.normBackward(
          x,
          w,
          view(mean, [R]),
          view(rstd, [R]),
          put(data(R * D, 4), [R, D]),
          false,
          dx,
          dw,
          db,
        );
        bits.push(
          [
            ...new Uint32Array((await be.read(dw)).buffer),
            ...new Uint32Array((await be.read(db)).buffer),
          ].join(","),
        );
      } finally {
        be.dispose();
      }
    }
    expect(new Set(bits).size).toBe(1);
  });

  for (const C of [1, 7, 33, 257]) {
    it(`matches crossEntropy forward and backward over ${C} classes, with ignored rows and label smoothing`, async () => {
      const N = 41;
      const targets = Int32Array.from({ length: N }, (_, r) => (r % 5 === 3 ? -100 : (r * 7) % C));
      const t = backends().map((be) => {
        const buf = be.allocate(N, "int32");
        be.write(buf, targets);
        return view(buf, [N]);
      });
      for (const smoothing of [0, 0.1]) {
        const logits = pair([N, C]);
        for (const v of logits)
          (v.buffer as unknown as { data: Float32Array }).data.forEach((e, i, d) => {
            d[i] = e * 30;
          });
        const losses = outPair(N);
        const lses = outPair(N);
        for (const [i, be] of backends().entries())
          be.crossEntropy(logits[i], t[i], -100, smoothing, losses[i], lses[i]);
        const dLoss = pair([1]);
        const grads = outPair(N * C);
        for (const [i, be] of backends().entries()) {
          be.crossEntropyBackward(
            logits[i],
            t[i],
            view(lses[i], [N]),
            { ...dLoss[i], shape: [N], strides: [0] },
            -100,
            smoothing,
            grads[i],
          );
        }
        expect(await readPair(losses)).toBeLessThan(1e-4);
        expect(await readPair(lses)).toBeLessThan(1e-4);
        expect(await readPair(grads)).toBeLessThan(1e-6);
      }
    });
  }

  it("refuses a crossEntropy target outside the classes, as the reference does", () => {
    const logits = pair([2, 3]);
    const t = fast.allocate(2, "int32");
    fast.write(t, new Int32Array([0, 3]));
    expect(() =>
      fast.crossEntropy(
        logits[0],
        view(t, [2]),
        -100,
        0,
        fast.allocate(2, "float32"),
        fast.allocate(2, "float32"),
      ),
    ).toThrow(/target 3 at row 1 is outside \[0, 3\)/);
  });

  for (const n of [1031, 4099]) {
    it(`matches AdamW on ${n} parameters over three steps`, async () => {
      const p = pair([n]);
      const g = pair([n]);
      const m = pair([n]);
      const v = pair([n]);
      for (const s of v)
        (s.buffer as unknown as { data: Float32Array }).data.forEach((e, i, d) => {
          d[i] = Math.abs(e);
        });
      for (let step = 1; step <= 3; step++) {
        const h = { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1, step };
        for (const [i, be] of backends().entries()) be.adamw(p[i].buffer, g[i], m[i].buffer, v[i].buffer, h);
      }
      for (const [a, b] of [p, m, v]) {
        const x = await fast.read(a.buffer);
        const y = await reference.read(b.buffer);
        let err = 0;
        for (let i = 0; i < n; i++) err = Math.max(err, Math.abs(x[i] - y[i]));
        expect(err).toBeLessThan(1e-6);
      }
    });
  }
});

describe("cpu-wasm backend strided copy against the reference", () => {
  it("copies head splits and merges, halves into a cat, and leaves other layouts to the reference", async () => {
    const layouts: {
      src: [number[], number[]?];
      dst: () => { shape: number[]; strides: number[]; offset: number };
    }[] = [
      // [B, L, H, D] read as [B, H, L, D] into a contiguous buffer (the head split)
      {
        src: [
          [4, 9, 3, 40],
          [0, 2, 1, 3],
        ],
        dst: () => ({ shape: [4, 3, 9, 40], strides: [1080, 360, 40, 1], offset: 0 }),
      },
      // a contiguous block into the second half of a wider last dim (cat along the last axis)
      { src: [[5, 7, 33]], dst: () => ({ shape: [5, 7, 33], strides: [462, 66, 1], offset: 33 }) },
      // a transposed matrix made contiguous (inner stride not 1: the reference kernel)
      {
        src: [
          [40, 33],
          [1, 0],
        ],
        dst: () => ({ shape: [33, 40], strides: [40, 1], offset: 0 }),
      },
    ];
    for (const { src, dst } of layouts) {
      const s = pair(src[0], src[1]);
      const n = numel(src[0]);
      const outs = [fast.allocate(2 * n, "float32"), reference.allocate(2 * n, "float32")];
      for (const [i, be] of [fast as Backend, reference as Backend].entries()) {
        be.fill({ buffer: outs[i], shape: [2 * n], strides: [1], offset: 0 }, 0);
        be.copy(s[i], { buffer: outs[i], ...dst() });
      }
      expect(await readPair(outs)).toBe(0);
    }
  });
});

describe("cpu-wasm backend sums against the reference", () => {
  const cases: [number[], number[]][] = [
    [[1031], [0]],
    [[7, 257], [1]],
    [[257, 7], [0]],
    [
      [33, 33, 7],
      [1, 2],
    ],
    [
      [33, 33, 7],
      [0, 1],
    ],
    [[1500, 1, 3], [0]],
    [
      [3, 400, 5],
      [0, 2],
    ],
    [
      [4000, 1],
      [0, 1],
    ],
  ];
  for (const [shape, axes] of cases) {
    it(`matches sum and mean of ${JSON.stringify(shape)} over axes ${JSON.stringify(axes)}`, async () => {
      for (const op of ["sum", "mean"] as const) {
        const x = pair(shape);
        const outShape = shape.map((d, i) => (axes.includes(i) ? 1 : d));
        const outs = outPair(numel(outShape));
        fast.reduce(op, x[0], axes, outs[0]);
        reference.reduce(op, x[1], axes, outs[1]);
        expect(await readPair(outs), op).toBeLessThan(1e-5);
      }
    });
  }
});
