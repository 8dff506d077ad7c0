// matmul on odd sizes, transposed operands (read in place) and broadcast batches, against a naive
// triple loop in float64, on every backend.
import { expect, it } from "vitest";
import * as T from "../src/index.js";
import { describeBackends } from "./backends.js";

function naive(a: ArrayLike<number>, b: ArrayLike<number>, M: number, N: number, K: number): Float64Array {
  const c = new Float64Array(M * N);
  for (let i = 0; i < M; i++)
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += a[i * K + k] * b[k * N + j];
      c[i * N + j] = s;
    }
  return c;
}

function expectNear(got: ArrayLike<number>, want: ArrayLike<number>, K: number): void {
  const tol = 1e-5 * Math.sqrt(K) * 4;
  for (let i = 0; i < want.length; i++) {
    if (Math.abs(got[i] - want[i]) > tol * (1 + Math.abs(want[i])))
      throw new Error(`[${i}]: got ${got[i]}, want ${want[i]}`);
  }
}

describeBackends("matmul shapes", () => {
  for (const [M, N, K] of [
    [1, 1, 1],
    [7, 33, 1],
    [33, 7, 257],
    [257, 33, 7],
    [5, 260, 300],
  ]) {
    for (const [ta, tb] of [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ]) {
      it(`${M}x${N}x${K}${ta ? " Aᵀ" : ""}${tb ? " Bᵀ" : ""}`, async () => {
        const a = T.randn(ta ? [K, M] : [M, K], { seed: M + K });
        const b = T.randn(tb ? [N, K] : [K, N], { seed: N * 7 + K });
        const av = ta ? a.transpose(0, 1) : a;
        const bv = tb ? b.transpose(0, 1) : b;
        const out = av.matmul(bv);
        const want = naive(await av.data(), await bv.data(), M, N, K);
        expectNear(await out.data(), want, K);
        for (const t of [a, b, av, bv, out]) t.dispose();
      });
    }
  }

  it("broadcast batch dims: [3,1,5,6] @ [4,6,2]", async () => {
    const a = T.randn([3, 1, 5, 6], { seed: 1 });
    const b = T.randn([4, 6, 2], { seed: 2 });
    const out = a.matmul(b);
    expect(out.shape).toEqual([3, 4, 5, 2]);
    const ad = await a.data();
    const bd = await b.data();
    const od = await out.data();
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 4; j++) {
        const want = naive(ad.subarray(i * 30, i * 30 + 30), bd.subarray(j * 12, j * 12 + 12), 5, 2, 6);
        expectNear(od.subarray((i * 4 + j) * 10, (i * 4 + j) * 10 + 10), want, 6);
      }
  });

  it("a narrowed operand (row stride larger than its width) is read in place", async () => {
    const big = T.randn([6, 10], { seed: 3 });
    const a = big.narrow(1, 2, 5);
    const b = T.randn([5, 3], { seed: 4 });
    const out = a.matmul(b);
    expectNear(await out.data(), naive(await a.data(), await b.data(), 6, 3, 5), 5);
  });
});
