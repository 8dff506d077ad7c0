import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GemmArgs, WasmRuntime } from "../../src/backend/wasm/runtime.js";

let rt: WasmRuntime;
beforeAll(async () => {
  rt = await WasmRuntime.create({ threads: 2 });
});
afterAll(() => rt.close());

let seed = 12345;
function random(): number {
  seed = (seed * 1103515245 + 12345) >>> 0;
  return seed / 2 ** 32 - 0.5;
}

/** Fills a fresh heap block with random floats and returns its address. */
function randomBlock(n: number): number {
  const p = rt.heap.alloc(Math.max(1, n) * 4);
  const v = new Float32Array(rt.memory.buffer, p, n);
  for (let i = 0; i < n; i++) v[i] = random();
  return p;
}

interface Case {
  batch: number;
  M: number;
  N: number;
  K: number;
  transA?: boolean;
  transB?: boolean;
  /** b is shared by every batch (stride 0). */
  broadcastB?: boolean;
  accumulate?: boolean;
}

/** Runs the wasm GEMM and a float64 triple loop on the same data; returns the max abs difference. */
function check(c: Case): number {
  const { batch, M, N, K } = c;
  const a = randomBlock(batch * M * K);
  const bCount = c.broadcastB ? 1 : batch;
  const b = randomBlock(bCount * K * N);
  const out = randomBlock(batch * M * N);
  const before = new Float32Array(rt.memory.buffer, out, batch * M * N).slice();
  const g: GemmArgs = {
    a,
    b,
    c: out,
    batch,
    M,
    N,
    K,
    sab: M * K,
    sam: c.transA ? 1 : K,
    sak: c.transA ? M : 1,
    sbb: c.broadcastB ? 0 : K * N,
    sbk: c.transB ? 1 : N,
    sbn: c.transB ? K : 1,
    scb: M * N,
    scm: N,
    accumulate: c.accumulate,
  };
  rt.gemm(g);
  const A = new Float32Array(rt.memory.buffer, a, batch * M * K);
  const B = new Float32Array(rt.memory.buffer, b, bCount * K * N);
  const C = new Float32Array(rt.memory.buffer, out, batch * M * N);
  let err = 0;
  for (let t = 0; t < batch; t++) {
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) {
        let s = c.accumulate ? before[t * M * N + m * N + n] : 0;
        for (let k = 0; k < K; k++) {
          s += A[t * g.sab + m * g.sam + k * g.sak] * B[t * g.sbb + k * g.sbk + n * g.sbn];
        }
        err = Math.max(err, Math.abs(s - C[t * M * N + m * N + n]));
      }
    }
  }
  rt.heap.release(a, batch * M * K * 4);
  rt.heap.release(b, bCount * K * N * 4);
  rt.heap.release(out, batch * M * N * 4);
  return err;
}

const sizes = [1, 7, 33, 257];

describe("wasm gemm", () => {
  for (const M of sizes) {
    for (const N of sizes) {
      it(`matches a float64 loop for M=${M} N=${N} over K in 1, 7, 33, 257`, () => {
        for (const K of sizes) expect(check({ batch: 1, M, N, K })).toBeLessThan(1e-4 * Math.sqrt(K));
      });
    }
  }

  it("reads transposed operands in place", () => {
    for (const [transA, transB] of [
      [true, false],
      [false, true],
      [true, true],
    ]) {
      expect(check({ batch: 1, M: 33, N: 257, K: 7, transA, transB })).toBeLessThan(1e-4);
      expect(check({ batch: 1, M: 257, N: 33, K: 300, transA, transB })).toBeLessThan(2e-3);
    }
  });

  it("runs batches, with a broadcast right operand", () => {
    expect(check({ batch: 7, M: 33, N: 7, K: 33 })).toBeLessThan(1e-4);
    expect(check({ batch: 5, M: 7, N: 33, K: 257, broadcastB: true, transB: true })).toBeLessThan(2e-3);
  });

  it("spans several KC, MC and NC blocks split across threads", () => {
    expect(check({ batch: 1, M: 130, N: 2100, K: 520 })).toBeLessThan(3e-3);
    expect(check({ batch: 1, M: 600, N: 40, K: 300 })).toBeLessThan(3e-3);
  });

  it("accumulates into the output when asked", () => {
    expect(check({ batch: 2, M: 33, N: 33, K: 257, accumulate: true })).toBeLessThan(2e-3);
  });

  it("writes zeros when K is 0 and leaves empty outputs alone", () => {
    const out = randomBlock(12);
    rt.gemm({
      a: out,
      b: out,
      c: out,
      batch: 1,
      M: 3,
      N: 4,
      K: 0,
      sab: 0,
      sam: 0,
      sak: 1,
      sbb: 0,
      sbk: 4,
      sbn: 1,
      scb: 0,
      scm: 4,
    });
    expect([...new Float32Array(rt.memory.buffer, out, 12)]).toEqual(new Array(12).fill(0));
    rt.gemm({
      a: out,
      b: out,
      c: out,
      batch: 1,
      M: 0,
      N: 4,
      K: 3,
      sab: 0,
      sam: 3,
      sak: 1,
      sbb: 0,
      sbk: 4,
      sbn: 1,
      scb: 0,
      scm: 4,
    });
    rt.heap.release(out, 48);
  });
});

describe("wasm heap", () => {
  it("grows the shared memory and reuses freed blocks by size", () => {
    const before = rt.memory.buffer.byteLength;
    const big = rt.heap.alloc(before);
    expect(rt.memory.buffer.byteLength).toBeGreaterThan(before);
    rt.heap.release(big, before);
    expect(rt.heap.alloc(before)).toBe(big);
    rt.heap.release(big, before);
  });

  it("names the allocation when the 4 GiB of wasm32 cannot hold it", () => {
    expect(() => rt.heap.alloc(2 ** 32)).toThrow(/cpu-wasm: out of memory allocating 4294967296 bytes/);
  });
});

describe("wasm gemm without relaxed SIMD", () => {
  it("runs the mul+add kernels (the fallback where relaxed_madd is missing) with the same results", async () => {
    const plain = await WasmRuntime.create({ threads: 2, relaxed: false });
    try {
      expect(plain.relaxed).toBe(false);
      const [M, N, K] = [33, 257, 65];
      const a = plain.heap.alloc(M * K * 4);
      const b = plain.heap.alloc(K * N * 4);
      const c = plain.heap.alloc(M * N * 4);
      const A = new Float32Array(plain.memory.buffer, a, M * K);
      const B = new Float32Array(plain.memory.buffer, b, K * N);
      for (const v of [A, B]) for (let i = 0; i < v.length; i++) v[i] = random();
      plain.gemm({
        a,
        b,
        c,
        batch: 1,
        M,
        N,
        K,
        sab: 0,
        sam: K,
        sak: 1,
        sbb: 0,
        sbk: N,
        sbn: 1,
        scb: 0,
        scm: N,
      });
      const C = new Float32Array(plain.memory.buffer, c, M * N);
      let err = 0;
      for (let m = 0; m < M; m++)
        for (let n = 0; n < N; n++) {
          let s = 0;
          for (let k = 0; k < K; k++) s += A[m * K + k] * B[k * N + n];
          err = Math.max(err, Math.abs(s - C[m * N + n]));
        }
      expect(err).toBeLessThan(1e-4);
    } finally {
      plain.close();
    }
  });
});
