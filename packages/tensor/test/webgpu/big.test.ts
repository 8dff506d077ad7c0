// Ops on tensors larger than one storage binding: a backend whose bindings are capped at 64 KiB
// (`maxBindingBytes`) splits or stages its operands exactly as it does past 128 MiB on a real
// adapter, so every path runs here on small data against the CPU reference.
import { afterAll, describe, expect, it } from "vitest";
import { contiguousStrides } from "../../src/backend/backend.js";
import { createBackend, type WebGpuBackend } from "../../src/backend/webgpu/index.js";
import { compareAttention, cpu, expectSame, loadWebGpu, outPair, pair, rand, view } from "./helpers.js";

const CAP = 64 * 1024;
const { gpu: probe, reason } = await loadWebGpu();
probe?.dispose();
const g: WebGpuBackend | null = probe ? await createBackend({ maxBindingBytes: CAP }) : null;
const suite = g ? describe : process.env.CI === "true" ? describe : describe.skip;
afterAll(() => g?.dispose());

suite(`webgpu ops past one binding (capped at ${CAP} bytes)${g ? "" : ` (skipped: ${reason})`}`, () => {
  if (!g) {
    it("has a WebGPU adapter in CI", () => {
      throw new Error(`webgpu unavailable: ${reason}`);
    });
    return;
  }
  const gb = g;
  /** Runs `f` and returns how many dispatches it recorded: a split op records one per chunk at least. */
  const dispatches = (f: () => void): number => {
    const before = gb.runtime.counters.dispatches;
    f();
    return gb.runtime.counters.dispatches - before;
  };

  it("caps its bindings and refuses a cap below 4 KiB", async () => {
    expect(gb.adapter.limits.maxStorageBufferBindingSize).toBe(CAP);
    await expect(createBackend({ maxBindingBytes: 100 })).rejects.toThrow(
      /maxBindingBytes must be at least 4096/,
    );
  });

  // 300 rows of 130 floats: 156 KB, three bindings' worth
  const R = 300;
  const C = 130;

  it("softmax, logSoftmax and their backward", async () => {
    const x = pair(gb, rand(R * C, 1, -8, 8), [3, 100, C]);
    const dy = pair(gb, rand(R * C, 2), [3, 100, C]);
    for (const log of [false, true]) {
      const y = outPair(gb, [3, 100, C]);
      cpu.softmax(view(x, "cpu"), log, y.cpu);
      expect(dispatches(() => gb.softmax(view(x, "gpu"), log, y.gpu))).toBeGreaterThanOrEqual(3);
      await expectSame(gb, y, 1e-5, `softmax log=${log}`);
      const dx = outPair(gb, [3, 100, C]);
      cpu.softmaxBackward(view(y, "cpu"), view(dy, "cpu"), log, dx.cpu);
      gb.softmaxBackward(view(y, "gpu"), view(dy, "gpu"), log, dx.gpu);
      await expectSame(gb, dx, 1e-5, `softmax backward log=${log}`);
    }
  });

  it("softmax of a strided view (every other row of a wider tensor)", async () => {
    const x = pair(gb, rand(2 * R * C, 3), [2 * R, C]);
    const y = outPair(gb, [R, C]);
    const v = (s: "cpu" | "gpu") => view(x, s, [R, C], [2 * C, 1], C);
    cpu.softmax(v("cpu"), false, y.cpu);
    gb.softmax(v("gpu"), false, y.gpu);
    await expectSame(gb, y, 1e-5, "strided softmax");
  });

  it("rope past one binding, by rows", async () => {
    const [B, Hh, L, D] = [6, 4, 25, 32]; // 76.8 KiB of x
    const x = pair(gb, rand(B * Hh * L * D, 20), [B, Hh, L, D]);
    const cosT = pair(gb, rand(L * (D / 2), 21), [L, D / 2]);
    const sinT = pair(gb, rand(L * (D / 2), 22), [L, D / 2]);
    const tv = (t: typeof cosT, s: "cpu" | "gpu") => view(t, s, [B, Hh, L, D / 2], [0, 0, D / 2, 1]);
    const o = outPair(gb, [B, Hh, L, D]);
    cpu.rope(view(x, "cpu"), tv(cosT, "cpu"), tv(sinT, "cpu"), false, o.cpu);
    const n = dispatches(() => gb.rope(view(x, "gpu"), tv(cosT, "gpu"), tv(sinT, "gpu"), false, o.gpu));
    expect(n).toBeGreaterThanOrEqual(2);
    await expectSame(gb, o, 1e-5, "rope");
  });

  it("cross-entropy and its backward, with ignored rows and label smoothing", async () => {
    const logits = pair(gb, rand(R * C, 4, -5, 5), [R, C]);
    const t = Int32Array.from({ length: R }, (_, i) => (i % 7 === 0 ? -100 : (i * 31) % C));
    const target = pair(gb, t, [R], "int32");
    const loss = outPair(gb, [R]);
    const lse = outPair(gb, [R]);
    cpu.crossEntropy(view(logits, "cpu"), view(target, "cpu"), -100, 0.1, loss.cpu, lse.cpu);
    const n = dispatches(() =>
      gb.crossEntropy(view(logits, "gpu"), view(target, "gpu"), -100, 0.1, loss.gpu, lse.gpu),
    );
    expect(n).toBeGreaterThanOrEqual(3);
    await expectSame(gb, loss, 1e-5, "loss");
    await expectSame(gb, lse, 1e-5, "lse");
    const dLoss = pair(gb, rand(R, 5), [R]);
    const dx = outPair(gb, [R, C]);
    cpu.crossEntropyBackward(
      view(logits, "cpu"),
      view(target, "cpu"),
      view(lse, "cpu"),
      view(dLoss, "cpu"),
      -100,
      0.1,
      dx.cpu,
    );
    gb.crossEntropyBackward(
      view(logits, "gpu"),
      view(target, "gpu"),
      view(lse, "gpu"),
      view(dLoss, "gpu"),
      -100,
      0.1,
      dx.gpu,
    );
    await expectSame(gb, dx, 1e-5, "dlogits");
  });

  for (const rms of [false, true]) {
    it(`${rms ? "RMS" : "layer"} norm forward and backward (weight and bias gradients summed over chunks)`, async () => {
      const x = pair(gb, rand(R * C, 6), [R, C]);
      const w = pair(gb, rand(C, 7), [C]);
      const b = pair(gb, rand(C, 8), [C]);
      const [y, mean, rstd] = [outPair(gb, [R, C]), outPair(gb, [R]), outPair(gb, [R])];
      cpu.norm(
        view(x, "cpu"),
        view(w, "cpu"),
        rms ? null : view(b, "cpu"),
        1e-5,
        rms,
        y.cpu,
        mean.cpu,
        rstd.cpu,
      );
      gb.norm(
        view(x, "gpu"),
        view(w, "gpu"),
        rms ? null : view(b, "gpu"),
        1e-5,
        rms,
        y.gpu,
        mean.gpu,
        rstd.gpu,
      );
      await expectSame(gb, y, 1e-4, "norm");
      await expectSame(gb, rstd, 1e-4, "rstd");
      const dy = pair(gb, rand(R * C, 9), [R, C]);
      const [dx, dw, db] = [outPair(gb, [R, C]), outPair(gb, [C]), outPair(gb, [C])];
      const args = (s: "cpu" | "gpu") =>
        [view(x, s), view(w, s), view(mean, s), view(rstd, s), view(dy, s), rms] as const;
      cpu.normBackward(...args("cpu"), dx.cpu, dw.cpu, rms ? null : db.cpu);
      // per chunk: the backward kernel(s), then folds of the weight (and bias) gradients
      expect(
        dispatches(() => gb.normBackward(...args("gpu"), dx.gpu, dw.gpu, rms ? null : db.gpu)),
      ).toBeGreaterThanOrEqual(5);
      await expectSame(gb, dx, 1e-4, "dx");
      await expectSame(gb, dw, 1e-4, "dweight");
      if (!rms) await expectSame(gb, db, 1e-4, "dbias");
    });
  }

  const reductions: [string, number[]][] = [
    ["the last axis", [2]],
    ["a middle axis", [1]],
    ["the first axis (chunks folded)", [0]],
    ["every axis", [0, 1, 2]],
  ];
  for (const [what, axes] of reductions) {
    it(`reductions over ${what}`, async () => {
      const x = pair(gb, rand(R * C, 10, 0.5, 1.5), [6, 50, C]);
      for (const op of ["sum", "mean", "max", "min", "prod"] as const) {
        if (op === "prod" && axes.length === 3) continue; // 39,000 factors under- or overflow float32
        const o = outPair(
          gb,
          x.shape.map((n, d) => (axes.includes(d) ? 1 : n)),
        );
        cpu.reduce(op, view(x, "cpu"), axes, o.cpu);
        expect(dispatches(() => gb.reduce(op, view(x, "gpu"), axes, o.gpu))).toBeGreaterThanOrEqual(3);
        await expectSame(gb, o, 2e-4, `${op} over [${axes}]`);
      }
    });
  }

  it("argmax along the last axis; along the first axis it says it cannot", async () => {
    const x = pair(gb, rand(R * C, 11), [R, C]);
    const o = outPair(gb, [R, 1], "int32");
    cpu.argReduce("argmax", view(x, "cpu"), 1, o.cpu);
    gb.argReduce("argmax", view(x, "gpu"), 1, o.gpu);
    await expectSame(gb, o, 0, "argmax");
    const o0 = outPair(gb, [1, C], "int32");
    expect(() => gb.argReduce("argmax", view(x, "gpu"), 0, o0.gpu)).toThrow(
      /first dim of a tensor larger than one binding/,
    );
  });

  const products: [string, number, number, number, boolean, boolean][] = [
    ["A and C split by rows", 300, 64, 96, false, false],
    ["transposed A split along K (partial products summed)", 96, 400, 48, true, false],
    ["B split along K", 40, 520, 64, false, false],
    ["transposed B, C split by rows", 260, 32, 100, false, true],
  ];
  for (const [what, M, K, N, ta, tb] of products) {
    it(`matmul: ${what}`, async () => {
      const a = pair(gb, rand(M * K, M + K), ta ? [K, M] : [M, K]);
      const b = pair(gb, rand(K * N, N), tb ? [N, K] : [K, N]);
      const av = (s: "cpu" | "gpu") => (ta ? view(a, s, [M, K], [1, M]) : view(a, s));
      const bv = (s: "cpu" | "gpu") => (tb ? view(b, s, [K, N], [1, K]) : view(b, s));
      const o = outPair(gb, [M, N]);
      cpu.matmul(av("cpu"), bv("cpu"), o.cpu);
      expect(dispatches(() => gb.matmul(av("gpu"), bv("gpu"), o.gpu))).toBeGreaterThanOrEqual(2);
      await expectSame(gb, o, 1e-4, "matmul");
    });
  }

  it("batched matmul with a broadcast operand, one product at a time", async () => {
    const a = pair(gb, rand(4 * 120 * 40, 12), [4, 120, 40]);
    const b = pair(gb, rand(40 * 60, 13), [40, 60]);
    const o = outPair(gb, [4, 120, 60]);
    const bv = (s: "cpu" | "gpu") => view(b, s, [4, 40, 60], [0, 60, 1]);
    cpu.matmul(view(a, "cpu"), bv("cpu"), o.cpu);
    gb.matmul(view(a, "gpu"), bv("gpu"), o.gpu);
    await expectSame(gb, o, 1e-4, "batched matmul");
    expect(contiguousStrides(o.shape)).toEqual([7200, 60, 1]);
  });

  it("copies a permuted view past one binding (heads moved in front of positions), by slabs of dim 0", async () => {
    const x = pair(gb, rand(12 * 20 * 3 * 40, 19), [12, 20, 3, 40]);
    const o = outPair(gb, [12, 3, 20, 40]);
    const v = (s: "cpu" | "gpu") => view(x, s, [12, 3, 20, 40], [2400, 40, 120, 1]);
    cpu.copy(v("cpu"), view(o, "cpu"));
    expect(dispatches(() => gb.copy(v("gpu"), view(o, "gpu")))).toBeGreaterThanOrEqual(2);
    await expectSame(gb, o, 0, "permuted copy");
  });

  it("indexSelect from a table past one binding and indexAdd into one, a window of rows at a time", async () => {
    const table = pair(gb, rand(R * C, 14), [R, C]);
    const ids = Int32Array.from([0, 299, 150, 7, 299, 123, 124, 250]);
    const idx = pair(gb, ids, [ids.length], "int32");
    const o = outPair(gb, [ids.length, C]);
    cpu.indexSelect(view(table, "cpu"), view(idx, "cpu"), 0, o.cpu);
    const n = dispatches(() => gb.indexSelect(view(table, "gpu"), view(idx, "gpu"), 0, o.gpu));
    expect(n).toBeGreaterThanOrEqual(3);
    await expectSame(gb, o, 0, "indexSelect");
    // the embedding's backward: repeated rows add up
    const dst = pair(gb, rand(R * C, 15), [R, C]);
    const src = pair(gb, rand(ids.length * C, 16), [ids.length, C]);
    cpu.indexAdd(dst.cpu, [R, C], view(idx, "cpu"), view(src, "cpu"), 0);
    gb.indexAdd(dst.gpu, [R, C], view(idx, "gpu"), view(src, "gpu"), 0);
    await expectSame(gb, dst, 1e-6, "indexAdd");
  });

  const att: [string, boolean, boolean, number][] = [
    ["by batch and head", false, false, 2],
    ["by batch (grouped-query heads), causal", true, false, 1],
    ["by batch (additive mask)", false, true, 2],
  ];
  const attCases = (["fused", "composed"] as const).flatMap((path) => att.map((c) => [path, ...c] as const));
  it.each(attCases)(
    "attention (%s) split %s, forward and backward",
    async (path, _n, causal, masked, Hkv) => {
      gb.attentionPath = path;
      // q [24, 2, 16, 32]: 96 KiB in all, 4 KiB a batch
      const n = await compareAttention(gb, { B: 24, Hq: 2, Hkv, Lq: 16, Lk: 16, D: 32, causal, masked });
      expect(n).toBeGreaterThanOrEqual(2);
      gb.attentionPath = "auto";
    },
  );

  it("an op that cannot split refuses the operand before the device sees it, and the device lives on", async () => {
    // gather along the last dim: every window of it still spans all 300 rows
    const x = pair(gb, rand(R * C, 17), [R, C]);
    const idx = pair(
      gb,
      Int32Array.from({ length: R }, (_, i) => i % C),
      [R, 1],
      "int32",
    );
    const o = outPair(gb, [R, 1]);
    expect(() => gb.gather(view(x, "gpu"), view(idx, "gpu"), 1, o.gpu)).toThrow(/cannot be split to fit/);
    const y = pair(gb, rand(8, 18), [8]);
    const e = outPair(gb, [8]);
    cpu.unary("exp", view(y, "cpu"), e.cpu);
    gb.unary("exp", view(y, "gpu"), e.gpu);
    await expectSame(gb, e, 1e-6, "exp after the refusal");
  });
});
