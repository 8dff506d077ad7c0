// Cache-blocked, register-blocked matmul for the reference backend (BLIS's loop order in plain
// TypeScript): B is packed a KC × NC panel at a time and A four rows at a time into reused
// Float64Arrays laid out for the micro-kernel, which keeps a 4 × 4 block of C in sixteen local
// accumulators over the whole K panel (8 loads feed 16 multiply-adds).
import type { TypedArray } from "../backend.js";

const KC = 256;
const NC = 256;
let bPanel = new Float64Array(KC * NC);
let aPanel = new Float64Array(KC * 4);
const edge = new Float64Array(16);

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
  if (K === 0 || M === 0 || N === 0) return;
  const a = A.data;
  const b = B.data;
  for (let jj = 0; jj < N; jj += NC) {
    const nc = Math.min(NC, N - jj);
    const ncp = (nc + 3) & ~3;
    for (let kk = 0; kk < K; kk += KC) {
      const kc = Math.min(KC, K - kk);
      if (bPanel.length < ncp * kc) bPanel = new Float64Array(ncp * kc);
      if (aPanel.length < 4 * kc) aPanel = new Float64Array(4 * kc);
      const Bp = bPanel;
      const Ap = aPanel;
      // B panel: for each group of 4 columns, kc rows of 4 values (zero-padded past N)
      for (let jb = 0; jb < ncp; jb += 4) {
        const base = jb * kc;
        for (let c = 0; c < 4; c++) {
          const j = jj + jb + c;
          let p = base + c;
          if (j < N) {
            let src = B.off + kk * B.rs + j * B.cs;
            for (let k = 0; k < kc; k++, p += 4, src += B.rs) Bp[p] = b[src];
          } else for (let k = 0; k < kc; k++, p += 4) Bp[p] = 0;
        }
      }
      for (let ib = 0; ib < M; ib += 4) {
        const rows = Math.min(4, M - ib);
        for (let r = 0; r < 4; r++) {
          let p = r;
          if (r < rows) {
            let src = A.off + (ib + r) * A.rs + kk * A.cs;
            for (let k = 0; k < kc; k++, p += 4, src += A.cs) Ap[p] = a[src];
          } else for (let k = 0; k < kc; k++, p += 4) Ap[p] = 0;
        }
        for (let jb = 0; jb < ncp; jb += 4) {
          let c00 = 0;
          let c01 = 0;
          let c02 = 0;
          let c03 = 0;
          let c10 = 0;
          let c11 = 0;
          let c12 = 0;
          let c13 = 0;
          let c20 = 0;
          let c21 = 0;
          let c22 = 0;
          let c23 = 0;
          let c30 = 0;
          let c31 = 0;
          let c32 = 0;
          let c33 = 0;
          let pb = jb * kc;
          let pa = 0;
          for (let k = 0; k < kc; k++, pa += 4, pb += 4) {
            const a0 = Ap[pa];
            const a1 = Ap[pa + 1];
            const a2 = Ap[pa + 2];
            const a3 = Ap[pa + 3];
            const b0 = Bp[pb];
            const b1 = Bp[pb + 1];
            const b2 = Bp[pb + 2];
            const b3 = Bp[pb + 3];
            c00 += a0 * b0;
            c01 += a0 * b1;
            c02 += a0 * b2;
            c03 += a0 * b3;
            c10 += a1 * b0;
            c11 += a1 * b1;
            c12 += a1 * b2;
            c13 += a1 * b3;
            c20 += a2 * b0;
            c21 += a2 * b1;
            c22 += a2 * b2;
            c23 += a2 * b3;
            c30 += a3 * b0;
            c31 += a3 * b1;
            c32 += a3 * b2;
            c33 += a3 * b3;
          }
          const j0 = jj + jb;
          if (rows === 4 && j0 + 4 <= N) {
            let o = cOff + ib * N + j0;
            C[o] += c00;
            C[o + 1] += c01;
            C[o + 2] += c02;
            C[o + 3] += c03;
            o += N;
            C[o] += c10;
            C[o + 1] += c11;
            C[o + 2] += c12;
            C[o + 3] += c13;
            o += N;
            C[o] += c20;
            C[o + 1] += c21;
            C[o + 2] += c22;
            C[o + 3] += c23;
            o += N;
            C[o] += c30;
            C[o + 1] += c31;
            C[o + 2] += c32;
            C[o + 3] += c33;
          } else {
            edge[0] = c00;
            edge[1] = c01;
            edge[2] = c02;
            edge[3] = c03;
            edge[4] = c10;
            edge[5] = c11;
            edge[6] = c12;
            edge[7] = c13;
            edge[8] = c20;
            edge[9] = c21;
            edge[10] = c22;
            edge[11] = c23;
            edge[12] = c30;
            edge[13] = c31;
            edge[14] = c32;
            edge[15] = c33;
            const cols = Math.min(4, N - j0);
            for (let r = 0; r < rows; r++)
              for (let c = 0; c < cols; c++) C[cOff + (ib + r) * N + j0 + c] += edge[r * 4 + c];
          }
        }
      }
    }
  }
}
