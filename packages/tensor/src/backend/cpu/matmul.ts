// Cache-blocked matmul for the reference backend: B is packed a (KC × NC) panel at a time into a
// reused Float64Array, then four rows of C are updated per pass over the panel, so each loaded B
// element feeds four multiply-adds and the panel stays in L2.
import type { TypedArray } from "../backend.js";

const KC = 128;
const NC = 256;
let panel = new Float64Array(KC * NC);

/** One matrix operand: element (r, c) at off + r·rs + c·cs. */
export interface MatrixRef {
  data: TypedArray;
  off: number;
  rs: number;
  cs: number;
}

/** Writes C[M×N] (contiguous at cOff, row stride N) = A[M×K] · B[K×N]. */
export function gemm(
  A: MatrixRef,
  B: MatrixRef,
  C: TypedArray,
  cOff: number,
  M: number,
  N: number,
  K: number,
): void {
  C.fill(0, cOff, cOff + M * N);
  if (K === 0) return;
  if (panel.length < KC * NC) panel = new Float64Array(KC * NC);
  const P = panel;
  const a = A.data;
  const ars = A.rs;
  const acs = A.cs;
  const b = B.data;
  for (let jj = 0; jj < N; jj += NC) {
    const nc = Math.min(NC, N - jj);
    for (let kk = 0; kk < K; kk += KC) {
      const kc = Math.min(KC, K - kk);
      // pack B[kk:kk+kc, jj:jj+nc]
      for (let k = 0; k < kc; k++) {
        let src = B.off + (kk + k) * B.rs + jj * B.cs;
        const bcs = B.cs;
        const dst = k * nc;
        for (let j = 0; j < nc; j++) {
          P[dst + j] = b[src];
          src += bcs;
        }
      }
      let i = 0;
      for (; i + 4 <= M; i += 4) {
        const c0 = cOff + i * N + jj;
        const c1 = c0 + N;
        const c2 = c1 + N;
        const c3 = c2 + N;
        let ap = A.off + i * ars + kk * acs;
        for (let k = 0; k < kc; k++) {
          const a0 = a[ap];
          const a1 = a[ap + ars];
          const a2 = a[ap + 2 * ars];
          const a3 = a[ap + 3 * ars];
          ap += acs;
          const pk = k * nc;
          for (let j = 0; j < nc; j++) {
            const bv = P[pk + j];
            C[c0 + j] += a0 * bv;
            C[c1 + j] += a1 * bv;
            C[c2 + j] += a2 * bv;
            C[c3 + j] += a3 * bv;
          }
        }
      }
      for (; i < M; i++) {
        const c0 = cOff + i * N + jj;
        let ap = A.off + i * ars + kk * acs;
        for (let k = 0; k < kc; k++) {
          const a0 = a[ap];
          ap += acs;
          const pk = k * nc;
          for (let j = 0; j < nc; j++) C[c0 + j] += a0 * P[pk + j];
        }
      }
    }
  }
}
