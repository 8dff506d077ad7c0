// Scaled dot-product attention on the reference backend, one query row at a time (scores in a reused
// Float64Array), with grouped-query heads and bottom-right causal alignment; backward recomputes the
// probabilities from the saved row logsumexp instead of storing them.
import type { AttentionOptions, TypedArray } from "../backend.js";

/** A strided 4-D operand: element (b, h, i, d) at off + b·s[0] + h·s[1] + i·s[2] + d·s[3]. */
export interface Strided4 {
  data: TypedArray;
  off: number;
  s: readonly number[];
}

function scoresRow(
  q: Strided4,
  k: Strided4,
  mask: Strided4 | null,
  b: number,
  h: number,
  kh: number,
  i: number,
  Lk: number,
  D: number,
  jEnd: number,
  scale: number,
  out: Float64Array,
): void {
  const qd = q.data;
  const kd = k.data;
  const qb = q.off + b * q.s[0] + h * q.s[1] + i * q.s[2];
  const qs = q.s[3];
  const kbase = k.off + b * k.s[0] + kh * k.s[1];
  const ks = k.s[3];
  for (let j = 0; j < jEnd; j++) {
    const kb = kbase + j * k.s[2];
    let dot = 0;
    for (let d = 0; d < D; d++) dot += qd[qb + d * qs] * kd[kb + d * ks];
    let sc = dot * scale;
    if (mask) sc += mask.data[mask.off + b * mask.s[0] + h * mask.s[1] + i * mask.s[2] + j * mask.s[3]];
    out[j] = sc;
  }
  for (let j = jEnd; j < Lk; j++) out[j] = -Infinity;
}

/** Writes out [B,Hq,Lq,D] and lse [B,Hq,Lq]. */
export function attentionForward(
  q: Strided4,
  k: Strided4,
  v: Strided4,
  mask: Strided4 | null,
  shape: { B: number; Hq: number; Hkv: number; Lq: number; Lk: number; D: number },
  opts: AttentionOptions,
  out: TypedArray,
  lse: TypedArray,
): void {
  const { B, Hq, Hkv, Lq, Lk, D } = shape;
  const group = Hq / Hkv;
  const p = new Float64Array(Lk);
  const acc = new Float64Array(D);
  const vd = v.data;
  for (let b = 0; b < B; b++)
    for (let h = 0; h < Hq; h++) {
      const kh = Math.floor(h / group);
      for (let i = 0; i < Lq; i++) {
        const jEnd = opts.causal ? Math.max(0, Math.min(Lk, i + Lk - Lq + 1)) : Lk;
        scoresRow(q, k, mask, b, h, kh, i, Lk, D, jEnd, opts.scale, p);
        let m = -Infinity;
        for (let j = 0; j < jEnd; j++) if (p[j] > m) m = p[j];
        const row = ((b * Hq + h) * Lq + i) * D;
        if (m === -Infinity) {
          lse[(b * Hq + h) * Lq + i] = -Infinity;
          out.fill(0, row, row + D);
          continue;
        }
        let s = 0;
        acc.fill(0);
        const vbase = v.off + b * v.s[0] + kh * v.s[1];
        const vs = v.s[3];
        for (let j = 0; j < jEnd; j++) {
          const e = Math.exp(p[j] - m);
          s += e;
          if (e === 0) continue;
          const vb = vbase + j * v.s[2];
          for (let d = 0; d < D; d++) acc[d] += e * vd[vb + d * vs];
        }
        lse[(b * Hq + h) * Lq + i] = m + Math.log(s);
        const inv = 1 / s;
        for (let d = 0; d < D; d++) out[row + d] = acc[d] * inv;
      }
    }
}

/** Writes dq [B,Hq,Lq,D], dk and dv [B,Hkv,Lk,D]. */
export function attentionBackward(
  q: Strided4,
  k: Strided4,
  v: Strided4,
  mask: Strided4 | null,
  shape: { B: number; Hq: number; Hkv: number; Lq: number; Lk: number; D: number },
  opts: AttentionOptions,
  o: Strided4,
  lse: Strided4,
  dO: Strided4,
  dq: TypedArray,
  dk: TypedArray,
  dv: TypedArray,
): void {
  const { B, Hq, Hkv, Lq, Lk, D } = shape;
  const group = Hq / Hkv;
  const p = new Float64Array(Lk);
  const dqAcc = new Float64Array(D);
  const dkAcc = new Float64Array(B * Hkv * Lk * D);
  const dvAcc = new Float64Array(B * Hkv * Lk * D);
  const qd = q.data;
  const kd = k.data;
  const vd = v.data;
  const gd = dO.data;
  const od = o.data;
  for (let b = 0; b < B; b++)
    for (let h = 0; h < Hq; h++) {
      const kh = Math.floor(h / group);
      for (let i = 0; i < Lq; i++) {
        const jEnd = opts.causal ? Math.max(0, Math.min(Lk, i + Lk - Lq + 1)) : Lk;
        const l = lse.data[lse.off + b * lse.s[0] + h * lse.s[1] + i * lse.s[2]];
        const dqRow = ((b * Hq + h) * Lq + i) * D;
        if (l === -Infinity) {
          dq.fill(0, dqRow, dqRow + D);
          continue;
        }
        scoresRow(q, k, mask, b, h, kh, i, Lk, D, jEnd, opts.scale, p);
        const gb = dO.off + b * dO.s[0] + h * dO.s[1] + i * dO.s[2];
        const ob = o.off + b * o.s[0] + h * o.s[1] + i * o.s[2];
        let Di = 0;
        for (let d = 0; d < D; d++) Di += gd[gb + d * dO.s[3]] * od[ob + d * o.s[3]];
        const qb = q.off + b * q.s[0] + h * q.s[1] + i * q.s[2];
        dqAcc.fill(0);
        const kvRow = (b * Hkv + kh) * Lk;
        for (let j = 0; j < jEnd; j++) {
          const pj = Math.exp(p[j] - l);
          if (pj === 0) continue;
          const vb = v.off + b * v.s[0] + kh * v.s[1] + j * v.s[2];
          const kb = k.off + b * k.s[0] + kh * k.s[1] + j * k.s[2];
          let dp = 0;
          for (let d = 0; d < D; d++) dp += gd[gb + d * dO.s[3]] * vd[vb + d * v.s[3]];
          const ds = pj * (dp - Di) * opts.scale;
          const acc = (kvRow + j) * D;
          for (let d = 0; d < D; d++) {
            dqAcc[d] += ds * kd[kb + d * k.s[3]];
            dkAcc[acc + d] += ds * qd[qb + d * q.s[3]];
            dvAcc[acc + d] += pj * gd[gb + d * dO.s[3]];
          }
        }
        for (let d = 0; d < D; d++) dq[dqRow + d] = dqAcc[d];
      }
    }
  for (let i = 0; i < dkAcc.length; i++) {
    dk[i] = dkAcc[i];
    dv[i] = dvAcc[i];
  }
}
