// Scaled dot-product attention on the fast CPU backend: scores for every (batch, head) as one list of
// GEMMs over the strided q/k/v views (no copies), the masked softmax as a row kernel, and backward from
// recomputed probabilities: dV = Pᵀ·dO, dP = dO·Vᵀ, dS = P∘(dP − rowsum(dO∘O))·scale, dQ = dS·K,
// dK = dSᵀ·Q. Grouped-query heads share their k/v head through a batch stride of 0, and dK/dV sum their
// group through an output batch stride of 0.
import type { AttentionOptions, BufferHandle, View } from "../backend.js";
import type { GemmArgs, WasmRuntime } from "./runtime.js";

/** Byte address of element 0 of a view's buffer. */
export type PtrOf = (b: BufferHandle) => number;

interface Dims {
  B: number;
  Hq: number;
  Hkv: number;
  G: number;
  Lq: number;
  Lk: number;
  D: number;
}

function dims(q: View, k: View): Dims {
  const [B, Hq, Lq, D] = q.shape;
  const [, Hkv, Lk] = k.shape;
  return { B, Hq, Hkv, G: Hq / Hkv, Lq, Lk, D };
}

/** Address of (b, h) of a 4-D view. */
function at(ptr: PtrOf, v: View, b: number, h: number): number {
  return ptr(v.buffer) + (v.offset + b * v.strides[0] + h * v.strides[1]) * 4;
}

/** One GEMM per (batch, k/v head): `make` gets b, the k/v head g and the first query head g·G. */
function perGroup(d: Dims, make: (b: number, g: number, h0: number) => GemmArgs): GemmArgs[] {
  const items: GemmArgs[] = [];
  for (let b = 0; b < d.B; b++) for (let g = 0; g < d.Hkv; g++) items.push(make(b, g, g * d.G));
  return items;
}

/** S[b,h] = q[b,h] · k[b,g]ᵀ into the contiguous scratch s [B, Hq, Lq, Lk] (unscaled). */
function scoreItems(ptr: PtrOf, d: Dims, q: View, k: View, s: number): GemmArgs[] {
  const LL = d.Lq * d.Lk;
  return perGroup(d, (b, g, h0) => ({
    a: at(ptr, q, b, h0),
    b: at(ptr, k, b, g),
    c: s + (b * d.Hq + h0) * LL * 4,
    batch: d.G,
    M: d.Lq,
    N: d.Lk,
    K: d.D,
    sab: q.strides[1],
    sam: q.strides[2],
    sak: q.strides[3],
    sbb: 0,
    sbk: k.strides[3],
    sbn: k.strides[2],
    scb: LL,
    scm: d.Lk,
  }));
}

/** Runs the masked, scaled softmax over the scores; fills lse (float32 [B·Hq·Lq]) when given. */
function softmaxScores(
  rt: WasmRuntime,
  ptr: PtrOf,
  d: Dims,
  s: number,
  mask: View | null,
  options: AttentionOptions,
  lse: Float32Array | null,
): void {
  const rows = d.B * d.Hq * d.Lq;
  const stats = rt.heap.alloc(rows * 8);
  const ms = mask ? mask.strides : [0, 0, 0, 0];
  rt.rows(
    "attnSoftmax",
    rows,
    [
      s,
      rows,
      d.Lq,
      d.Lk,
      options.scale,
      d.Lk - d.Lq,
      options.causal ? 1 : 0,
      mask ? ptr(mask.buffer) + mask.offset * 4 : 0,
      ms[0],
      ms[1],
      ms[2],
      ms[3],
      d.Hq,
      stats,
      stats + rows * 4,
    ],
    d.Lk * 4,
  );
  if (lse) {
    const st = new Float32Array(rt.memory.buffer, stats, rows * 2);
    for (let r = 0; r < rows; r++) {
      const m = st[r];
      lse[r] = m === Number.NEGATIVE_INFINITY ? m : m + Math.log(st[rows + r]);
    }
  }
  rt.heap.release(stats, rows * 8);
}

/** Writes out [B,Hq,Lq,D] and outLse [B,Hq,Lq] (float32 views throughout). */
export function attentionForward(
  rt: WasmRuntime,
  ptr: PtrOf,
  q: View,
  k: View,
  v: View,
  mask: View | null,
  options: AttentionOptions,
  out: BufferHandle,
  outLse: Float32Array,
): void {
  const d = dims(q, k);
  const LL = d.Lq * d.Lk;
  const bytes = d.B * d.Hq * LL * 4;
  const s = rt.heap.alloc(bytes);
  rt.gemmList(scoreItems(ptr, d, q, k, s));
  softmaxScores(rt, ptr, d, s, mask, options, outLse);
  rt.gemmList(
    perGroup(d, (b, g, h0) => ({
      a: s + (b * d.Hq + h0) * LL * 4,
      b: at(ptr, v, b, g),
      c: ptr(out) + (b * d.Hq + h0) * d.Lq * d.D * 4,
      batch: d.G,
      M: d.Lq,
      N: d.D,
      K: d.Lk,
      sab: LL,
      sam: d.Lk,
      sak: 1,
      sbb: 0,
      sbk: v.strides[2],
      sbn: v.strides[3],
      scb: d.Lq * d.D,
      scm: d.D,
    })),
  );
  rt.heap.release(s, bytes);
}

/** Writes dq [B,Hq,Lq,D], dk and dv [B,Hkv,Lk,D]. */
export function attentionBackward(
  rt: WasmRuntime,
  ptr: PtrOf,
  q: View,
  k: View,
  v: View,
  mask: View | null,
  options: AttentionOptions,
  out: View,
  dOut: View,
  dq: BufferHandle,
  dk: BufferHandle,
  dv: BufferHandle,
): void {
  const d = dims(q, k);
  const LL = d.Lq * d.Lk;
  const rows = d.B * d.Hq * d.Lq;
  const bytes = rows * d.Lk * 4;
  const s = rt.heap.alloc(bytes);
  const dp = rt.heap.alloc(bytes);
  const dvec = rt.heap.alloc(rows * 4);
  // Probabilities recomputed; dP = dO · Vᵀ in the same job.
  const dpItems = perGroup(d, (b, g, h0) => ({
    a: at(ptr, dOut, b, h0),
    b: at(ptr, v, b, g),
    c: dp + (b * d.Hq + h0) * LL * 4,
    batch: d.G,
    M: d.Lq,
    N: d.Lk,
    K: d.D,
    sab: dOut.strides[1],
    sam: dOut.strides[2],
    sak: dOut.strides[3],
    sbb: 0,
    sbk: v.strides[3],
    sbn: v.strides[2],
    scb: LL,
    scm: d.Lk,
  }));
  rt.gemmList([...scoreItems(ptr, d, q, k, s), ...dpItems]);
  softmaxScores(rt, ptr, d, s, mask, options, null);
  // rowsum(dO ∘ O), then dS in place of dP.
  const g = dOut.strides;
  const o = out.strides;
  rt.rows(
    "attnRowDot",
    rows,
    [
      ptr(dOut.buffer) + dOut.offset * 4,
      g[0],
      g[1],
      g[2],
      g[3],
      ptr(out.buffer) + out.offset * 4,
      o[0],
      o[1],
      o[2],
      o[3],
      rows,
      d.Hq,
      d.Lq,
      d.D,
      dvec,
    ],
    d.D,
  );
  rt.rows("attnGradScores", rows, [s, dp, dvec, rows, d.Lk, options.scale], d.Lk);
  const kvBytes = d.Lk * d.D * 4;
  const grads: GemmArgs[] = [
    // dV[b,g] = Σ_h P[b,h]ᵀ · dO[b,h]
    ...perGroup(d, (b, g, h0) => ({
      a: s + (b * d.Hq + h0) * LL * 4,
      b: at(ptr, dOut, b, h0),
      c: ptr(dv) + (b * d.Hkv + g) * kvBytes,
      batch: d.G,
      M: d.Lk,
      N: d.D,
      K: d.Lq,
      sab: LL,
      sam: 1,
      sak: d.Lk,
      sbb: dOut.strides[1],
      sbk: dOut.strides[2],
      sbn: dOut.strides[3],
      scb: 0,
      scm: d.D,
    })),
    // dQ[b,h] = dS[b,h] · K[b,g]
    ...perGroup(d, (b, g, h0) => ({
      a: dp + (b * d.Hq + h0) * LL * 4,
      b: at(ptr, k, b, g),
      c: ptr(dq) + (b * d.Hq + h0) * d.Lq * d.D * 4,
      batch: d.G,
      M: d.Lq,
      N: d.D,
      K: d.Lk,
      sab: LL,
      sam: d.Lk,
      sak: 1,
      sbb: 0,
      sbk: k.strides[2],
      sbn: k.strides[3],
      scb: d.Lq * d.D,
      scm: d.D,
    })),
    // dK[b,g] = Σ_h dS[b,h]ᵀ · Q[b,h]
    ...perGroup(d, (b, g, h0) => ({
      a: dp + (b * d.Hq + h0) * LL * 4,
      b: at(ptr, q, b, h0),
      c: ptr(dk) + (b * d.Hkv + g) * kvBytes,
      batch: d.G,
      M: d.Lk,
      N: d.D,
      K: d.Lq,
      sab: LL,
      sam: 1,
      sak: d.Lk,
      sbb: q.strides[1],
      sbk: q.strides[2],
      sbn: q.strides[3],
      scb: 0,
      scm: d.D,
    })),
  ];
  rt.gemmList(grads);
  rt.heap.release(s, bytes);
  rt.heap.release(dp, bytes);
  rt.heap.release(dvec, rows * 4);
}
