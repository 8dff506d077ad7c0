/// <reference types="@webgpu/types" />
// Attention composed of batched matmuls and two row kernels, for CPU-like adapters: there the
// matmul kernels keep one operand uniform across SIMD lanes, which the one-row-per-invocation
// fused kernel cannot, so this path is several times faster while the score matrix is small.
import type { Binding, GpuRuntime, Kernel } from "../runtime.js";
import type { GpuView } from "../view.js";
import type { AttentionInputs } from "./attention.js";
import { groupsFor, PARAMS_WGSL, ParamWriter, ROW_WGSL, writeRowView } from "./common.js";
import { type MatrixOperand, runMatmul } from "./matmul.js";
import { runReduce } from "./reduce.js";

const WGS = 64;

// params: 0 rows, 1 cols (Lk), 2 mode, 3 groups along x, 4 scale, 5 Lq, 6 causal shift (Lk − Lq, i32), 7 flags (1 causal, 2 mask),
// 8..18 mask row view
/**
 * Row kernel over [B·Hq·Lq, Lk] scores. mode 0: P = softmax(S·scale + mask) with causal masking,
 * and the row's logsumexp; mode 1: dS = scale · P ⊙ (dP − Σ P ⊙ dP).
 */
const PROBS_KERNEL: Kernel = {
  key: "attention.probs",
  // One invocation per row and no workgroup barriers: CPU-like adapters run barriers as coroutine
  // switches, which cost more than these short rows.
  code: () => `${PARAMS_WGSL}${ROW_WGSL}
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read_write> lse: array<f32>;
@group(0) @binding(3) var<storage, read> x: array<f32>;
@group(0) @binding(4) var<storage, read> y: array<f32>;
fn neg_inf() -> f32 { return bitcast<f32>(0xff800000u | (pu(0u) & 0u)); }
fn score(r: u32, i: u32, c: u32, mo: u32, ms: u32) -> f32 {
  let flags = pu(7u);
  if ((flags & 1u) != 0u && i32(c) > i32(i) + pi(6u)) { return neg_inf(); }
  var s = x[r * pu(1u) + c] * pf(4u);
  if ((flags & 2u) != 0u) { s += y[mo + c * ms]; }
  return s;
}
@compute @workgroup_size(${WGS})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let r = gid.x + gid.y * pu(3u) * ${WGS}u;
  if (r >= pu(0u)) { return; }
  let C = pu(1u);
  let base = r * C;
  if (pu(2u) == 0u) {
    let i = r % pu(5u);
    let mo = row_off(8u, r); let ms = col_stride(8u);
    var m = neg_inf();
    for (var c = 0u; c < C; c++) { m = max(m, score(r, i, c, mo, ms)); }
    var s = 0.0;
    for (var c = 0u; c < C; c++) {
      let v = score(r, i, c, mo, ms);
      let e = select(exp(v - m), 0.0, v == neg_inf());
      out[base + c] = e;
      s += e;
    }
    let inv = select(0.0, 1.0 / s, s > 0.0);
    for (var c = 0u; c < C; c++) { out[base + c] = out[base + c] * inv; }
    lse[r] = m + log(s);
  } else {
    var d = 0.0;
    for (var c = 0u; c < C; c++) { d += x[base + c] * y[base + c]; }
    let sc = pf(4u);
    for (var c = 0u; c < C; c++) { out[base + c] = sc * x[base + c] * (y[base + c] - d); }
  }
}
`,
};

/** Returns whether the composed path suits these shapes on this adapter. */
export function useComposedAttention(rt: GpuRuntime, a: AttentionInputs): boolean {
  const [B, Hq, Lq] = a.q.shape;
  const Lk = a.k.shape[2];
  const bytes = B * Hq * Lq * Lk * 4;
  return (
    rt.ctx.adapter.isFallbackAdapter &&
    bytes <= Math.min(64 << 20, rt.maxBinding) &&
    Lq > 0 &&
    Lk > 0 &&
    a.q.shape[3] > 0
  );
}

/** A 4-D [B, H, L, D]-like view as a matmul operand over batch [B, Hkv, G] (G-stride 0 for k/v heads). */
function operand(v: GpuView, grouped: boolean, G: number, transpose: boolean): MatrixOperand {
  const [s0, s1, s2, s3] = v.shape.map((n, d) => (n === 1 ? 0 : v.strides[d]));
  return {
    buffer: v.buffer,
    offset: v.offset,
    rs: transpose ? s3 : s2,
    cs: transpose ? s2 : s3,
    batchStrides: grouped ? [s0, s1 * G, s1] : [s0, s1, 0],
  };
}

/** A contiguous [B, Hq, rows, cols] buffer as an operand over batch [B, Hkv, G]. */
function dense(
  buffer: GPUBuffer,
  Hkv: number,
  G: number,
  rows: number,
  cols: number,
  transpose: boolean,
): MatrixOperand {
  const per = rows * cols;
  return {
    buffer,
    offset: 0,
    rs: transpose ? 1 : cols,
    cs: transpose ? cols : 1,
    batchStrides: [Hkv * G * per, G * per, per],
  };
}

function probs(
  rt: GpuRuntime,
  mode: number,
  rows: number,
  Lq: number,
  Lk: number,
  a: AttentionInputs,
  out: GPUBuffer,
  lse: Binding,
  x: GPUBuffer,
  y: Binding,
): void {
  const g = groupsFor(rt, Math.ceil(rows / WGS));
  const p = new ParamWriter();
  p.u(rows)
    .u(Lk)
    .u(mode)
    .u(g.gx)
    .f(a.scale)
    .u(Lq)
    .i(Lk - Lq)
    .u((a.causal ? 1 : 0) | (a.mask ? 2 : 0));
  if (a.mask) writeRowView(p, 8, a.mask);
  p.at(19);
  rt.dispatch(PROBS_KERNEL, p.done(), [{ buffer: out }, lse, { buffer: x }, y], g.groups);
}

/** Records S = q·kᵀ and P = softmax(S·scale + mask) into `s` and `pOut`, the row logsumexp into `lse`. */
function forwardProbs(rt: GpuRuntime, a: AttentionInputs, s: GPUBuffer, pOut: GPUBuffer, lse: Binding): void {
  const [B, Hq, Lq, D] = a.q.shape;
  const [, Hkv, Lk] = a.k.shape;
  const G = Hq / Hkv;
  runMatmul(rt, operand(a.q, true, G, false), operand(a.k, false, G, true), s, Lq, Lk, D, [B, Hkv, G]);
  probs(rt, 0, B * Hq * Lq, Lq, Lk, a, pOut, lse, s, a.mask ? { buffer: a.mask.buffer } : { buffer: s });
}

/** Records attention forward through matmuls: out [B,Hq,Lq,D] and lse [B,Hq,Lq]. */
export function runComposedAttention(
  rt: GpuRuntime,
  a: AttentionInputs,
  out: GPUBuffer,
  lse: GPUBuffer,
): void {
  const [B, Hq, Lq, D] = a.q.shape;
  const [, Hkv, Lk] = a.k.shape;
  const G = Hq / Hkv;
  const n = B * Hq * Lq * Lk;
  const s = rt.pool.acquire(n * 4);
  const p = rt.pool.acquire(n * 4);
  forwardProbs(rt, a, s, p, { buffer: lse });
  runMatmul(rt, dense(p, Hkv, G, Lq, Lk, false), operand(a.v, false, G, false), out, Lq, D, Lk, [B, Hkv, G]);
  rt.pool.release(s);
  rt.pool.release(p);
}

/** Records attention backward through matmuls: dq, dk, dv (k/v gradients summed over each group). */
export function runComposedAttentionBackward(
  rt: GpuRuntime,
  a: AttentionInputs,
  dO: GpuView,
  dq: GPUBuffer,
  dk: GPUBuffer,
  dv: GPUBuffer,
): void {
  const [B, Hq, Lq, D] = a.q.shape;
  const [, Hkv, Lk] = a.k.shape;
  const G = Hq / Hkv;
  const n = B * Hq * Lq * Lk;
  const s = rt.pool.acquire(n * 4);
  const p = rt.pool.acquire(n * 4);
  const lse = rt.pool.acquire(B * Hq * Lq * 4);
  forwardProbs(rt, a, s, p, { buffer: lse });
  // dP = dO·vᵀ into s, then dS (scaled) into a fresh buffer
  runMatmul(rt, operand(dO, true, G, false), operand(a.v, false, G, true), s, Lq, Lk, D, [B, Hkv, G]);
  const ds = rt.pool.acquire(n * 4);
  probs(rt, 1, B * Hq * Lq, Lq, Lk, a, ds, { buffer: lse }, p, { buffer: s });
  runMatmul(rt, dense(ds, Hkv, G, Lq, Lk, false), operand(a.k, false, G, false), dq, Lq, D, Lk, [B, Hkv, G]);
  const kv = (target: GPUBuffer, left: GPUBuffer, right: GpuView) => {
    const dst = G === 1 ? target : rt.pool.acquire(B * Hq * Lk * D * 4);
    runMatmul(rt, dense(left, Hkv, G, Lq, Lk, true), operand(right, true, G, false), dst, Lk, D, Lq, [
      B,
      Hkv,
      G,
    ]);
    if (G > 1) {
      const shape = [B, Hkv, G, Lk, D];
      const strides = [Hkv * G * Lk * D, G * Lk * D, Lk * D, D, 1];
      runReduce(rt, "sum", { buffer: dst, offset: 0, shape, strides, dtype: "float32" }, [2], {
        buffer: target,
        offset: 0,
        shape: [B, Hkv, 1, Lk, D],
        strides: [Hkv * Lk * D, Lk * D, Lk * D, D, 1],
        dtype: "float32",
      });
      rt.pool.release(dst);
    }
  };
  kv(dk, ds, a.q);
  kv(dv, p, dO);
  for (const b of [s, p, lse, ds]) rt.pool.release(b);
}
