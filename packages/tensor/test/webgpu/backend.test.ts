// Every Backend method of the WebGPU backend against the CPU reference, on random data and on
// strided, transposed, broadcast and odd-sized views.
import { afterAll, describe, expect, it } from "vitest";
import type { BinaryOp, ReduceOp, UnaryOp } from "../../src/backend/backend.js";
import { contiguousStrides } from "../../src/backend/backend.js";
import { compareAttention, cpu, expectSame, loadWebGpu, outPair, pair, rand, view } from "./helpers.js";

const { gpu, reason } = await loadWebGpu();
const suite = gpu ? describe : process.env.CI === "true" ? describe : describe.skip;
afterAll(() => gpu?.dispose());

suite(`webgpu backend vs cpu reference${gpu ? "" : ` (skipped: ${reason})`}`, () => {
  if (!gpu) {
    it("has a WebGPU adapter in CI", () => {
      throw new Error(`webgpu unavailable: ${reason}`);
    });
    return;
  }
  const g = gpu;

  it("reports the adapter", () => {
    expect(typeof g.adapter.isFallbackAdapter).toBe("boolean");
    expect(g.adapter.limits.maxStorageBufferBindingSize).toBeGreaterThan(0);
  });

  const unary: [UnaryOp, number[]?, [number, number]?][] = [
    ["neg"],
    ["abs"],
    ["sign"],
    ["exp"],
    ["log", undefined, [0.1, 3]],
    ["sqrt", undefined, [0.1, 3]],
    ["rsqrt", undefined, [0.1, 3]],
    ["square"],
    ["reciprocal", undefined, [0.5, 3]],
    ["sin"],
    ["cos"],
    ["tanh"],
    ["sigmoid"],
    ["relu"],
    ["gelu"],
    ["geluTanh"],
    ["silu"],
    ["softplus"],
    ["logSigmoid"],
    ["floor"],
    ["logicalNot"],
    ["affine", [1.5, -0.25]],
    ["clamp", [-0.5, 0.75]],
    ["powScalar", [3]],
    ["powScalar", [0.5], [0.1, 2]],
  ];
  it.each(unary)("unary %s on a transposed view", async (op, param, range) => {
    const x = pair(g, rand(12, 7, range?.[0], range?.[1]), [3, 4]);
    const t = [4, 3];
    const o = outPair(g, t, op === "logicalNot" ? "bool" : "float32");
    cpu.unary(op, view(x, "cpu", t, [1, 4]), o.cpu, param);
    g.unary(op, view(x, "gpu", t, [1, 4]), o.gpu, param);
    await expectSame(g, o, 2e-5, op);
  });

  const binary: [BinaryOp, number[]?][] = [
    ["add"],
    ["sub"],
    ["mul"],
    ["div"],
    ["maximum"],
    ["minimum"],
    ["eq"],
    ["ne"],
    ["lt"],
    ["le"],
    ["gt"],
    ["ge"],
    ["logicalAnd"],
    ["logicalOr"],
    ["absGrad"],
    ["sinGrad"],
    ["cosGrad"],
    ["tanhGrad"],
    ["sigmoidGrad"],
    ["reluGrad"],
    ["geluGrad"],
    ["geluTanhGrad"],
    ["siluGrad"],
    ["softplusGrad"],
    ["logSigmoidGrad"],
    ["clampGrad", [-0.5, 0.5]],
    ["powScalarGrad", [2]],
  ];
  it.each(binary)("binary %s with a broadcast operand", async (op, param) => {
    const a = pair(g, rand(24, 3), [2, 3, 4]);
    const b = pair(
      g,
      rand(4, 5).map((v, i) => (i === 1 ? 0 : v)),
      [4],
    );
    const out = outPair(
      g,
      [2, 3, 4],
      /^(eq|ne|lt|le|gt|ge|logicalAnd|logicalOr)$/.test(op) ? "bool" : "float32",
    );
    const bs = [0, 0, 1];
    cpu.binary(op, view(a, "cpu"), view(b, "cpu", [2, 3, 4], bs), out.cpu, param);
    g.binary(op, view(a, "gpu"), view(b, "gpu", [2, 3, 4], bs), out.gpu, param);
    await expectSame(g, out, 2e-5, op);
  });

  it("the all-ops elementwise shader (used on real GPUs) matches too", async () => {
    const saved = g.adapter.isFallbackAdapter;
    g.adapter.isFallbackAdapter = false;
    try {
      const x = pair(g, rand(24, 3), [2, 3, 4]);
      const y = pair(g, rand(4, 4), [4]);
      for (const op of ["mul", "geluGrad", "maximum"] as BinaryOp[]) {
        const o = outPair(g, [2, 3, 4]);
        cpu.binary(op, view(x, "cpu"), view(y, "cpu", [2, 3, 4], [0, 0, 1]), o.cpu);
        g.binary(op, view(x, "gpu"), view(y, "gpu", [2, 3, 4], [0, 0, 1]), o.gpu);
        await expectSame(g, o, 2e-5, op);
      }
    } finally {
      g.adapter.isFallbackAdapter = saved;
    }
  });

  it("binary pow and positive-domain grads", async () => {
    for (const op of ["pow", "sqrtGrad", "rsqrtGrad"] as BinaryOp[]) {
      const a = pair(g, rand(10, 11, 0.2, 3), [10]);
      const b = pair(g, rand(10, 12, -2, 2), [10]);
      const o = outPair(g, [10]);
      cpu.binary(op, view(a, "cpu"), view(b, "cpu"), o.cpu);
      g.binary(op, view(a, "gpu"), view(b, "gpu"), o.gpu);
      await expectSame(g, o, 2e-5, op);
    }
  });

  it("where, fill and copy with casts", async () => {
    const c = pair(g, new Uint8Array([1, 0, 1, 1, 0, 0]), [2, 3], "bool");
    const a = pair(g, rand(6, 1), [2, 3]);
    const b = pair(g, rand(3, 2), [3]);
    const o = outPair(g, [2, 3]);
    cpu.where(view(c, "cpu"), view(a, "cpu"), view(b, "cpu", [2, 3], [0, 1]), o.cpu);
    g.where(view(c, "gpu"), view(a, "gpu"), view(b, "gpu", [2, 3], [0, 1]), o.gpu);
    await expectSame(g, o, 0, "where");
    const i = outPair(g, [3, 2], "int32");
    cpu.copy(view(a, "cpu", [3, 2], [1, 3]), view(i, "cpu"));
    g.copy(view(a, "gpu", [3, 2], [1, 3]), view(i, "gpu"));
    await expectSame(g, i, 0, "cast to int32");
    cpu.fill(view(o, "cpu", [2], [3], 1), 7.5);
    g.fill(view(o, "gpu", [2], [3], 1), 7.5);
    await expectSame(g, o, 0, "strided fill");
    const big = pair(g, Int32Array.from([16777217, -5, 2147483647]), [3], "int32");
    const bo = outPair(g, [3], "int32");
    cpu.copy(view(big, "cpu"), view(bo, "cpu"));
    g.copy(view(big, "gpu"), view(bo, "gpu"));
    await expectSame(g, bo, 0, "int32 copy is exact");
  });

  const reductions: [ReduceOp, number[]][] = [
    ["sum", [1]],
    ["sum", [0, 2]],
    ["mean", [2]],
    ["max", [0]],
    ["min", [1, 2]],
    ["prod", [2]],
    ["sum", [0, 1, 2]],
  ];
  it.each(reductions)("reduce %s over %j", async (op, axes) => {
    const x = pair(g, rand(3 * 5 * 7, 9, 0.5, 1.5), [3, 5, 7]);
    const shape = [3, 5, 7].map((n, d) => (axes.includes(d) ? 1 : n));
    const o = outPair(g, shape);
    cpu.reduce(op, view(x, "cpu"), axes, o.cpu);
    g.reduce(op, view(x, "gpu"), axes, o.gpu);
    await expectSame(g, o, 1e-5, op);
  });

  it("reduces a long row and a permuted view", async () => {
    const x = pair(g, rand(3000 * 4, 4), [3000, 4]);
    const o = outPair(g, [1, 4]);
    cpu.reduce("sum", view(x, "cpu"), [0], o.cpu);
    g.reduce("sum", view(x, "gpu"), [0], o.gpu);
    await expectSame(g, o, 1e-4, "column sums");
    const o2 = outPair(g, [4, 1]);
    cpu.reduce("max", view(x, "cpu", [4, 3000], [1, 4]), [1], o2.cpu);
    g.reduce("max", view(x, "gpu", [4, 3000], [1, 4]), [1], o2.gpu);
    await expectSame(g, o2, 0, "max of a transposed view");
  });

  it("argmax and argmin take the first extreme", async () => {
    const x = pair(g, Float32Array.from([1, 3, 3, 0, 2, 2, -1, 0, -1]), [3, 3]);
    for (const op of ["argmax", "argmin"] as const) {
      for (const axis of [0, 1]) {
        const o = outPair(g, axis === 0 ? [1, 3] : [3, 1], "int32");
        cpu.argReduce(op, view(x, "cpu"), axis, o.cpu);
        g.argReduce(op, view(x, "gpu"), axis, o.gpu);
        await expectSame(g, o, 0, `${op} axis ${axis}`);
      }
    }
  });

  const mm: [string, number, number, number, boolean, boolean][] = [
    ["square", 8, 8, 8, false, false],
    ["odd sizes", 13, 7, 19, false, false],
    ["transposed a", 33, 17, 9, true, false],
    ["transposed b", 5, 70, 31, false, true],
    ["both transposed", 65, 66, 67, true, true],
    ["aligned, b row-major (vec4 columns)", 12, 9, 16, false, false],
    ["aligned, transposed a, b row-major", 12, 9, 16, true, false],
    ["aligned, b transposed (vec4 along k)", 13, 16, 10, false, true],
    ["aligned, both transposed (vec4 b along k, scalar a)", 6, 8, 5, true, true],
    // the subgroup kernel: rows past a 32-row block, columns past a workgroup's, every layout
    ["subgroup rows, b rows", 37, 12, 44, false, false],
    ["subgroup rows, b columns", 70, 20, 36, false, true],
    ["subgroup columns, b rows", 68, 16, 40, true, false],
    ["subgroup columns, b columns", 36, 8, 12, true, true],
    ["subgroup, 16-row blocks", 12, 24, 8, true, false],
    ["subgroup, one row", 1, 16, 64, false, true],
  ];
  const variants = (["register", "tiled", "subgroup"] as const).filter(
    (v) => v !== "subgroup" || g.adapter.subgroupSize !== null,
  );
  it("reports its subgroup size, and picks the subgroup matmul on a CPU-like adapter that has one", () => {
    const { subgroupSize, isFallbackAdapter, matmulVariant } = g.adapter;
    if (subgroupSize !== null) expect(subgroupSize).toBeGreaterThanOrEqual(4);
    if (subgroupSize !== null && isFallbackAdapter) expect(matmulVariant).toBe("subgroup");
    if (!isFallbackAdapter) expect(matmulVariant).toBe("tiled");
  });
  for (const variant of variants) {
    it.each(mm)(`matmul (${variant}) %s`, async (_name, M, K, N, ta, tb) => {
      const a = pair(g, rand(M * K, M), ta ? [K, M] : [M, K]);
      const b = pair(g, rand(K * N, N), tb ? [N, K] : [K, N]);
      const av = (s: "cpu" | "gpu") => (ta ? view(a, s, [M, K], [1, M]) : view(a, s));
      const bv = (s: "cpu" | "gpu") => (tb ? view(b, s, [K, N], [1, K]) : view(b, s));
      const o = outPair(g, [M, N]);
      cpu.matmul(av("cpu"), bv("cpu"), o.cpu);
      const saved = g.adapter.matmulVariant;
      g.adapter.matmulVariant = variant;
      g.runtime.resetPipelineUse();
      g.matmul(av("gpu"), bv("gpu"), o.gpu);
      g.adapter.matmulVariant = saved;
      await expectSame(g, o, 1e-4, "matmul");
      const [used] = [...g.runtime.pipelinesUsed];
      // vec4-aligned cases (K and N multiples of 4) take the subgroup kernel; the rest fall back
      if (variant === "subgroup" && K % 4 === 0 && N % 4 === 0 && (!ta || M % 4 === 0)) {
        expect(used).toMatch(/^matmul\.subgroup\./);
      } else expect(used).not.toMatch(/^matmul\.subgroup\./);
    });
  }

  it("rope on a permuted view with broadcast tables, and its inverse", async () => {
    // x [B, L, H, D] read as [B, H, L, D]; tables [L, D/2] broadcast over B and H
    const [B, L, H, D] = [2, 5, 3, 8];
    const x = pair(g, rand(B * L * H * D, 31), [B, L, H, D]);
    const cosT = pair(g, rand(L * (D / 2), 32), [L, D / 2]);
    const sinT = pair(g, rand(L * (D / 2), 33), [L, D / 2]);
    const xv = (s: "cpu" | "gpu") => view(x, s, [B, H, L, D], [L * H * D, D, H * D, 1]);
    const tv = (t: typeof cosT, s: "cpu" | "gpu") => view(t, s, [B, H, L, D / 2], [0, 0, D / 2, 1]);
    for (const inverse of [false, true]) {
      const o = outPair(g, [B, H, L, D]);
      cpu.rope(xv("cpu"), tv(cosT, "cpu"), tv(sinT, "cpu"), inverse, o.cpu);
      g.rope(xv("gpu"), tv(cosT, "gpu"), tv(sinT, "gpu"), inverse, o.gpu);
      await expectSame(g, o, 1e-5, `rope inverse=${inverse}`);
    }
  });

  it("batched matmul with a broadcast batch dim", async () => {
    const a = pair(g, rand(2 * 3 * 4 * 5, 1), [2, 3, 4, 5]);
    const b = pair(g, rand(3 * 5 * 6, 2), [3, 5, 6]);
    const o = outPair(g, [2, 3, 4, 6]);
    const bv = (s: "cpu" | "gpu") => view(b, s, [2, 3, 5, 6], [0, 30, 6, 1]);
    cpu.matmul(view(a, "cpu"), bv("cpu"), o.cpu);
    g.matmul(view(a, "gpu"), bv("gpu"), o.gpu);
    await expectSame(g, o, 1e-4, "batched matmul");
  });

  it("batched matmul with a broadcast batch dim, aligned for vec4 reads", async () => {
    const a = pair(g, rand(2 * 3 * 8 * 4, 3), [2, 3, 8, 4]);
    const b = pair(g, rand(3 * 8 * 4, 4), [3, 8, 4]);
    const o = outPair(g, [2, 3, 8, 8]);
    // b read transposed ([.., K=4, N=8] with column stride 4) and broadcast over the first dim
    const bv = (s: "cpu" | "gpu") => view(b, s, [2, 3, 4, 8], [0, 32, 1, 4]);
    cpu.matmul(view(a, "cpu"), bv("cpu"), o.cpu);
    g.matmul(view(a, "gpu"), bv("gpu"), o.gpu);
    await expectSame(g, o, 1e-4, "batched matmul");
  });

  it("indexSelect, indexAdd, gather and scatterAdd", async () => {
    const x = pair(g, rand(5 * 4, 3), [5, 4]);
    const idx = pair(g, Int32Array.from([4, 0, 4, 2]), [4], "int32");
    const o = outPair(g, [4, 4]);
    cpu.indexSelect(view(x, "cpu"), view(idx, "cpu"), 0, o.cpu);
    g.indexSelect(view(x, "gpu"), view(idx, "gpu"), 0, o.gpu);
    await expectSame(g, o, 0, "indexSelect dim 0");
    const idx1 = pair(g, Int32Array.from([3, 0, 3, 2]), [4], "int32");
    const o1 = outPair(g, [5, 4]);
    cpu.indexSelect(view(x, "cpu"), view(idx1, "cpu"), 1, o1.cpu);
    g.indexSelect(view(x, "gpu"), view(idx1, "gpu"), 1, o1.gpu);
    await expectSame(g, o1, 0, "indexSelect dim 1");
    const dst = pair(g, new Float32Array(20), [5, 4]);
    const src = pair(g, rand(16, 8), [4, 4]);
    cpu.indexAdd(dst.cpu, [5, 4], view(idx, "cpu"), view(src, "cpu"), 0);
    g.indexAdd(dst.gpu, [5, 4], view(idx, "gpu"), view(src, "gpu"), 0);
    await expectSame(g, dst, 1e-6, "indexAdd with repeated indices");
    const gi = pair(g, Int32Array.from([0, 3, 1, 1, 2, 0]), [2, 3], "int32");
    const xs = pair(g, rand(2 * 4, 5), [2, 4]);
    const go = outPair(g, [2, 3]);
    cpu.gather(view(xs, "cpu"), view(gi, "cpu"), 1, go.cpu);
    g.gather(view(xs, "gpu"), view(gi, "gpu"), 1, go.gpu);
    await expectSame(g, go, 0, "gather");
    const sd = pair(g, new Float32Array(8), [2, 4]);
    const ss = pair(g, rand(6, 6), [2, 3]);
    cpu.scatterAdd(sd.cpu, [2, 4], view(gi, "cpu"), view(ss, "cpu"), 1);
    g.scatterAdd(sd.gpu, [2, 4], view(gi, "gpu"), view(ss, "gpu"), 1);
    await expectSame(g, sd, 1e-6, "scatterAdd");
  });

  it("softmax and logSoftmax forward and backward", async () => {
    const x = pair(g, rand(6 * 77, 2, -30, 30), [6, 77]);
    const dy = pair(g, rand(6 * 77, 3), [6, 77]);
    for (const log of [false, true]) {
      const y = outPair(g, [6, 77]);
      cpu.softmax(view(x, "cpu"), log, y.cpu);
      g.softmax(view(x, "gpu"), log, y.gpu);
      await expectSame(g, y, 1e-5, `softmax log=${log}`);
      const dx = outPair(g, [6, 77]);
      cpu.softmaxBackward(view(y, "cpu"), view(dy, "cpu"), log, dx.cpu);
      g.softmaxBackward(view(y, "gpu"), view(dy, "gpu"), log, dx.gpu);
      await expectSame(g, dx, 1e-5, `softmax backward log=${log}`);
    }
  });

  it("crossEntropy with ignoreIndex and label smoothing, forward and backward", async () => {
    const N = 7;
    const C = 100;
    const logits = pair(g, rand(N * C, 4, -20, 20), [N, C]);
    const t = pair(g, Int32Array.from([3, -100, 99, 0, 50, 3, 7]), [N], "int32");
    const dl = pair(g, rand(N, 5), [N]);
    for (const eps of [0, 0.1]) {
      const loss = outPair(g, [N]);
      const lse = outPair(g, [N]);
      cpu.crossEntropy(view(logits, "cpu"), view(t, "cpu"), -100, eps, loss.cpu, lse.cpu);
      g.crossEntropy(view(logits, "gpu"), view(t, "gpu"), -100, eps, loss.gpu, lse.gpu);
      await expectSame(g, loss, 1e-5, "loss");
      await expectSame(g, lse, 1e-5, "lse");
      const dx = outPair(g, [N, C]);
      cpu.crossEntropyBackward(
        view(logits, "cpu"),
        view(t, "cpu"),
        view(lse, "cpu"),
        view(dl, "cpu"),
        -100,
        eps,
        dx.cpu,
      );
      g.crossEntropyBackward(
        view(logits, "gpu"),
        view(t, "gpu"),
        view(lse, "gpu"),
        view(dl, "gpu"),
        -100,
        eps,
        dx.gpu,
      );
      await expectSame(g, dx, 1e-5, "dlogits");
    }
  });

  for (const [rms, gpuLike] of [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ]) {
    it(`${rms ? "rmsNorm" : "layerNorm"} forward and backward (${gpuLike ? "workgroup trees, as on GPUs" : "one row per invocation"})`, async () => {
      const saved = g.adapter.isFallbackAdapter;
      if (gpuLike) g.adapter.isFallbackAdapter = false;
      const R = 9;
      const D = 130;
      const x = pair(g, rand(R * D, 6, -3, 5), [R, D]);
      const w = pair(g, rand(D, 7), [D]);
      const b = pair(g, rand(D, 8), [D]);
      const dy = pair(g, rand(R * D, 9), [R, D]);
      const out = outPair(g, [R, D]);
      const mean = outPair(g, [R]);
      const rstd = outPair(g, [R]);
      const bias = (s: "cpu" | "gpu") => (rms ? null : view(b, s));
      cpu.norm(view(x, "cpu"), view(w, "cpu"), bias("cpu"), 1e-5, rms, out.cpu, mean.cpu, rstd.cpu);
      g.norm(view(x, "gpu"), view(w, "gpu"), bias("gpu"), 1e-5, rms, out.gpu, mean.gpu, rstd.gpu);
      await expectSame(g, out, 1e-5, "norm out");
      await expectSame(g, rstd, 1e-5, "rstd");
      const dx = outPair(g, [R, D]);
      const dw = outPair(g, [D]);
      const db = outPair(g, [D]);
      const args = (s: "cpu" | "gpu") =>
        [view(x, s), view(w, s), view(mean, s), view(rstd, s), view(dy, s), rms] as const;
      cpu.normBackward(...args("cpu"), dx.cpu, dw.cpu, rms ? null : db.cpu);
      g.normBackward(...args("gpu"), dx.gpu, dw.gpu, rms ? null : db.gpu);
      await expectSame(g, dx, 1e-4, "dx");
      await expectSame(g, dw, 1e-4, "dWeight");
      if (!rms) await expectSame(g, db, 1e-4, "dBias");
      g.adapter.isFallbackAdapter = saved;
    });
  }

  const att: [string, boolean, boolean, number, number, number][] = [
    ["plain", false, false, 2, 2, 5],
    ["causal", true, false, 2, 2, 6],
    ["causal, grouped-query, Lq < Lk", true, false, 4, 2, 3],
    ["additive mask", false, true, 2, 1, 4],
  ];
  const attCases = (["fused", "composed"] as const).flatMap((path) => att.map((c) => [path, ...c] as const));
  it.each(attCases)(
    "attention (%s) %s, forward and backward",
    async (path, _n, causal, masked, Hq, Hkv, Lq) => {
      g.attentionPath = path;
      await compareAttention(g, { B: 2, Hq, Hkv, Lq, Lk: 6, D: 8, causal, masked });
      g.attentionPath = "auto";
    },
  );

  it("adamw updates in place like the reference", async () => {
    const n = 1000;
    const p = pair(g, rand(n, 1), [n]);
    const grad = pair(g, rand(n, 2), [n]);
    const m = pair(g, rand(n, 3, 0, 0.1), [n]);
    const v = pair(g, rand(n, 4, 0, 0.1), [n]);
    const h = { lr: 1e-2, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, step: 3 };
    cpu.adamw(p.cpu, view(grad, "cpu"), m.cpu, v.cpu, h);
    g.adamw(p.gpu, view(grad, "gpu"), m.gpu, v.gpu, h);
    await expectSame(g, p, 1e-5, "param");
    await expectSame(g, m, 1e-6, "m");
    await expectSame(g, v, 1e-6, "v");
  });

  it("memoryInfo counts bytes in use and returns them on release", () => {
    const before = g.memoryInfo().bytesInUse;
    const b = g.allocate(1 << 20, "float32");
    expect(g.memoryInfo().bytesInUse - before).toBeGreaterThanOrEqual(4 << 20);
    g.release(b);
    expect(g.memoryInfo().bytesInUse).toBe(before);
    expect(() => g.write(b, new Float32Array(1))).toThrow(/released/);
  });

  it("refuses float64 with a clear error", () => {
    expect(() => g.allocate(4, "float64")).toThrow(/float64 is not supported on WebGPU/);
  });

  it("adds tensors larger than one 128 MiB binding", async () => {
    const n = 40 * 1024 * 1024; // 160 MiB of float32
    const a = g.allocate(n, "float32");
    const b = g.allocate(n, "float32");
    const o = g.allocate(n, "float32");
    const v = (h: typeof a) => ({ buffer: h, shape: [n], strides: [1], offset: 0 });
    g.fill(v(a), 1.5);
    g.fill(v(b), 2);
    g.fill({ buffer: b, shape: [4], strides: [1], offset: n - 4 }, 10);
    g.binary("add", v(a), v(b), o);
    const head = await g.read(o, 0, 4);
    const tail = await g.read(o, n - 8, 8);
    expect([...head]).toEqual([3.5, 3.5, 3.5, 3.5]);
    expect([...tail]).toEqual([3.5, 3.5, 3.5, 3.5, 11.5, 11.5, 11.5, 11.5]);
    for (const h of [a, b, o]) g.release(h);
    expect(contiguousStrides([2])).toEqual([1]);
  });

  it("computes 160 MiB of logits by matmul and their cross-entropy, split past one binding", async () => {
    const [M, K, N] = [40960, 8, 1024]; // logits [M, N]: 160 MiB of float32
    const xs = rand(M * K, 21);
    const ws = rand(K * N, 22);
    const x = g.allocate(M * K, "float32");
    const w = g.allocate(K * N, "float32");
    g.write(x, xs);
    g.write(w, ws);
    const logits = g.allocate(M * N, "float32");
    g.matmul(
      { buffer: x, shape: [M, K], strides: [K, 1], offset: 0 },
      { buffer: w, shape: [K, N], strides: [N, 1], offset: 0 },
      logits,
    );
    const t = Int32Array.from({ length: M }, (_, i) => (i * 7919) % N);
    const target = g.allocate(M, "int32");
    g.write(target, t);
    const [loss, lse] = [g.allocate(M, "float32"), g.allocate(M, "float32")];
    const lv = { buffer: logits, shape: [M, N], strides: [N, 1], offset: 0 };
    g.crossEntropy(lv, { buffer: target, shape: [M], strides: [1], offset: 0 }, -100, 0, loss, lse);
    const got = await g.read(loss);
    const tail = await g.read(logits, (M - 1) * N, N);
    // rows checked in float64 here: the first, some in the middle, the last
    for (const r of [0, 1, 12345, 32768, M - 1]) {
      const row = Array.from({ length: N }, (_, j) => {
        let acc = 0;
        for (let k = 0; k < K; k++) acc += xs[r * K + k] * ws[k * N + j];
        return acc;
      });
      const m = Math.max(...row);
      const l = m + Math.log(row.reduce((acc, v) => acc + Math.exp(v - m), 0));
      expect(got[r]).toBeCloseTo(l - row[t[r]], 3);
      if (r === M - 1) for (const j of [0, 511, N - 1]) expect(tail[j]).toBeCloseTo(row[j], 4);
    }
    for (const h of [x, w, logits, target, loss, lse]) g.release(h);
  });

  it("runs AdamW over parameters larger than one 128 MiB binding", async () => {
    const n = 34 * 1024 * 1024; // 136 MiB of float32 per buffer
    const [p, grad, m, v] = [0, 1, 2, 3].map(() => g.allocate(n, "float32"));
    const all = (h: typeof p) => ({ buffer: h, shape: [n], strides: [1], offset: 0 });
    g.fill(all(p), 1);
    g.fill(all(grad), 0.5);
    g.fill({ buffer: grad, shape: [3], strides: [1], offset: n - 3 }, -2);
    g.fill(all(m), 0);
    g.fill(all(v), 0);
    const h = { lr: 0.1, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.01, step: 1 };
    g.adamw(p, all(grad), m, v, h);
    // step 1: m̂ = g, v̂ = g², so the update is lr·sign(g) (plus decay)
    const expected = (gi: number) => 1 * (1 - h.lr * h.weightDecay) - h.lr * Math.sign(gi);
    const head = await g.read(p, 0, 2);
    const tail = await g.read(p, n - 4, 4);
    expect([...head].map((x) => x.toFixed(5))).toEqual(
      [expected(0.5), expected(0.5)].map((x) => x.toFixed(5)),
    );
    expect([...tail].map((x) => x.toFixed(5))).toEqual(
      [0.5, -2, -2, -2].map((gi) => expected(gi).toFixed(5)),
    );
    for (const b of [p, grad, m, v]) g.release(b);
  });
});
