/// <reference types="@webgpu/types" />
import type { Binding, GpuRuntime, Kernel } from "../runtime.js";
import type { GpuView } from "../view.js";
import { grid, PARAMS_WGSL, ParamWriter, WG } from "./common.js";

// params: 0 B, 1 Hq, 2 Hkv, 3 Lq, 4 Lk, 5 D, 6 scale, 7 flags (1 causal, 2 mask), 8 mode, 9 pitch,
// 10..14 q (offset, 4 strides), 15..19 k, 20..24 v, 25..29 mask, 30..34 o or dO, 35..38 lse (offset, 3 strides)
const Q = 10;
const K = 15;
const V = 20;
const MASK = 25;
const O = 30;
const LSE = 35;

/**
 * Fused attention with online softmax, one invocation per query row (forward, dq) or per key row
 * (dk, dv), rows kept in registers (head dim ≤ MAXD). Modes: 0 forward (out, lse); 1 per-row
 * statistics for backward (lse, Σ dO·O); 2 dq; 3 dk and dv (summed over the query heads of a group).
 */
function attentionKernel(maxD: number): Kernel {
  return {
    key: `attention.d${maxD}`,
    code: () => `${PARAMS_WGSL}
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read_write> out2: array<f32>;
@group(0) @binding(3) var<storage, read> q: array<f32>;
@group(0) @binding(4) var<storage, read> k: array<f32>;
@group(0) @binding(5) var<storage, read> v: array<f32>;
@group(0) @binding(6) var<storage, read> mask: array<f32>;
@group(0) @binding(7) var<storage, read> o: array<f32>;
@group(0) @binding(8) var<storage, read> stats: array<f32>;
fn off4(at: u32, b: u32, h: u32, i: u32) -> u32 { return pu(at) + b * pu(at + 1u) + h * pu(at + 2u) + i * pu(at + 3u); }
fn score_bias(b: u32, h: u32, i: u32, j: u32) -> f32 {
  if ((pu(7u) & 2u) == 0u) { return 0.0; }
  return mask[off4(${MASK}u, b, h, i) + j * pu(${MASK + 4}u)];
}
fn visible(i: u32, j: u32) -> bool {
  if ((pu(7u) & 1u) == 0u) { return true; }
  return i32(j) <= i32(i) + i32(pu(4u)) - i32(pu(3u));
}
fn neg_inf() -> f32 { return bitcast<f32>(0xff800000u | (pu(0u) & 0u)); }
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let t = gid.x + gid.y * pu(9u);
  let B = pu(0u); let Hq = pu(1u); let Hkv = pu(2u); let Lq = pu(3u); let Lk = pu(4u); let D = pu(5u);
  let scale = pf(6u); let mode = pu(8u);
  let qs = pu(${Q + 4}u); let ks = pu(${K + 4}u); let vs = pu(${V + 4}u); let os = pu(${O + 4}u);
  var a: array<f32, ${maxD}>;
  var c: array<f32, ${maxD}>;
  if (mode <= 2u) {
    if (t >= B * Hq * Lq) { return; }
    let i = t % Lq; let h = (t / Lq) % Hq; let b = t / (Lq * Hq);
    let hk = h * Hkv / Hq;
    let qo = off4(${Q}u, b, h, i);
    let row = (b * Hq + h) * Lq + i;
    if (mode == 1u) {
      // stats[2 row] = lse, stats[2 row + 1] = Σ_d dO·O (o binding holds O, q binding holds dO here)
      let oo = off4(${O}u, b, h, i);
      var s = 0.0;
      for (var d = 0u; d < D; d++) { s += q[qo + d * qs] * o[oo + d * os]; }
      out[2u * row] = stats[pu(${LSE}u) + b * pu(${LSE + 1}u) + h * pu(${LSE + 2}u) + i * pu(${LSE + 3}u)];
      out[2u * row + 1u] = s;
      return;
    }
    for (var d = 0u; d < D; d++) { a[d] = q[qo + d * qs]; c[d] = 0.0; }
    if (mode == 0u) {
      var m = neg_inf();
      var l = 0.0;
      for (var j = 0u; j < Lk; j++) {
        if (!visible(i, j)) { break; }
        let ko = off4(${K}u, b, hk, j);
        var s = 0.0;
        for (var d = 0u; d < D; d++) { s += a[d] * k[ko + d * ks]; }
        s = s * scale + score_bias(b, h, i, j);
        if (s == neg_inf()) { continue; }
        let mn = max(m, s);
        let corr = exp(m - mn);
        let p = exp(s - mn);
        l = l * corr + p;
        let vo = off4(${V}u, b, hk, j);
        for (var d = 0u; d < D; d++) { c[d] = c[d] * corr + p * v[vo + d * vs]; }
        m = mn;
      }
      let inv = select(0.0, 1.0 / l, l > 0.0);
      for (var d = 0u; d < D; d++) { out[row * D + d] = c[d] * inv; }
      out2[row] = m + log(l);
      return;
    }
    // mode 2: dq; o binding holds dO, stats holds (lse, delta) pairs
    let go = off4(${O}u, b, h, i);
    let lse = stats[2u * row];
    let delta = stats[2u * row + 1u];
    for (var j = 0u; j < Lk; j++) {
      if (!visible(i, j)) { break; }
      let ko = off4(${K}u, b, hk, j);
      let vo = off4(${V}u, b, hk, j);
      var s = 0.0;
      var dp = 0.0;
      for (var d = 0u; d < D; d++) { s += a[d] * k[ko + d * ks]; dp += o[go + d * os] * v[vo + d * vs]; }
      s = s * scale + score_bias(b, h, i, j);
      let p = exp(s - lse);
      let ds = p * (dp - delta) * scale;
      for (var d = 0u; d < D; d++) { c[d] += ds * k[ko + d * ks]; }
    }
    for (var d = 0u; d < D; d++) { out[row * D + d] = c[d]; }
    return;
  }
  // mode 3: one invocation per key row (b, hk, j): dk into out, dv into out2
  if (t >= B * Hkv * Lk) { return; }
  let j = t % Lk; let hk = (t / Lk) % Hkv; let b = t / (Lk * Hkv);
  let ko = off4(${K}u, b, hk, j);
  let vo = off4(${V}u, b, hk, j);
  var dk: array<f32, ${maxD}>;
  for (var d = 0u; d < D; d++) { a[d] = 0.0; c[d] = 0.0; dk[d] = k[ko + d * ks]; }
  let group = Hq / Hkv;
  for (var hh = 0u; hh < group; hh++) {
    let h = hk * group + hh;
    for (var i = 0u; i < Lq; i++) {
      if (!visible(i, j)) { continue; }
      let qo = off4(${Q}u, b, h, i);
      let go = off4(${O}u, b, h, i);
      let row = (b * Hq + h) * Lq + i;
      var s = 0.0;
      var dp = 0.0;
      for (var d = 0u; d < D; d++) { s += q[qo + d * qs] * dk[d]; dp += o[go + d * os] * v[vo + d * vs]; }
      s = s * scale + score_bias(b, h, i, j);
      let p = exp(s - stats[2u * row]);
      let ds = p * (dp - stats[2u * row + 1u]) * scale;
      for (var d = 0u; d < D; d++) {
        let g = o[go + d * os];
        c[d] += p * g;
        a[d] += ds * q[qo + d * qs];
      }
    }
  }
  let ro = t * D;
  for (var d = 0u; d < D; d++) { out[ro + d] = a[d]; out2[ro + d] = c[d]; }
}
`,
  };
}

const kernels = new Map<number, Kernel>();
function kernelFor(D: number): Kernel {
  const maxD = D <= 32 ? 32 : D <= 64 ? 64 : D <= 128 ? 128 : D <= 256 ? 256 : 0;
  if (!maxD) throw new Error(`webgpu: attention: head dim ${D} exceeds 256`);
  let k = kernels.get(maxD);
  if (!k) {
    k = attentionKernel(maxD);
    kernels.set(maxD, k);
  }
  return k;
}

/** The views attention reads. */
export interface AttentionInputs {
  q: GpuView;
  k: GpuView;
  v: GpuView;
  mask: GpuView | null;
  scale: number;
  causal: boolean;
}

function header(
  rt: GpuRuntime,
  a: AttentionInputs,
  mode: number,
  threads: number,
): { p: ParamWriter; groups: [number, number] } {
  const [B, Hq, Lq, D] = a.q.shape;
  const [, Hkv, Lk] = a.k.shape;
  const g = grid(rt, threads);
  const p = new ParamWriter();
  p.u(B)
    .u(Hq)
    .u(Hkv)
    .u(Lq)
    .u(Lk)
    .u(D)
    .f(a.scale)
    .u((a.causal ? 1 : 0) | (a.mask ? 2 : 0))
    .u(mode)
    .u(g.pitch);
  const put = (at: number, v: GpuView | null) => {
    p.at(at).u(v?.offset ?? 0);
    for (let d = 0; d < 4; d++) p.u(v ? (v.shape[d] === 1 ? 0 : v.strides[d]) : 0);
  };
  put(Q, a.q);
  put(K, a.k);
  put(V, a.v);
  put(MASK, a.mask);
  return { p, groups: g.groups };
}

function putView(p: ParamWriter, at: number, v: GpuView, dims: number): void {
  p.at(at).u(v.offset);
  for (let d = 0; d < dims; d++) p.u(v.shape[d] === 1 ? 0 : v.strides[d]);
}

/** Records attention forward: out [B,Hq,Lq,D] and lse [B,Hq,Lq] (contiguous). */
export function runAttention(
  rt: GpuRuntime,
  a: AttentionInputs,
  out: GPUBuffer,
  lse: GPUBuffer,
  placeholder: Binding,
): void {
  const [B, Hq, Lq, D] = a.q.shape;
  const rows = B * Hq * Lq;
  if (rows === 0 || D === 0) return;
  const { p, groups } = header(rt, a, 0, rows);
  p.at(LSE + 4);
  const kernel = kernelFor(D);
  rt.dispatch(
    kernel,
    p.done(),
    [
      { buffer: out },
      { buffer: lse },
      { buffer: a.q.buffer },
      { buffer: a.k.buffer },
      { buffer: a.v.buffer },
      a.mask ? { buffer: a.mask.buffer } : placeholder,
      placeholder,
      placeholder,
    ],
    groups,
  );
}

/**
 * Records attention backward: a statistics pass (lse, Σ dO·O per row) into `scratch`
 * (2·B·Hq·Lq floats), then dq, then dk and dv.
 */
export function runAttentionBackward(
  rt: GpuRuntime,
  a: AttentionInputs,
  o: GpuView,
  lse: GpuView,
  dO: GpuView,
  dq: GPUBuffer,
  dk: GPUBuffer,
  dv: GPUBuffer,
  scratch: GPUBuffer,
  placeholder: Binding,
): void {
  const [B, Hq, Lq, D] = a.q.shape;
  const [, Hkv, Lk] = a.k.shape;
  const rows = B * Hq * Lq;
  const kernel = kernelFor(Math.max(D, 1));
  const maskB = a.mask ? { buffer: a.mask.buffer } : placeholder;
  if (rows > 0) {
    // statistics: q slot carries dO, o slot carries O
    const s = header(rt, { ...a, q: dO }, 1, rows);
    putView(s.p, O, o, 4);
    putView(s.p, LSE, lse, 3);
    rt.dispatch(
      kernel,
      s.p.done(),
      [
        { buffer: scratch },
        placeholder.buffer === scratch ? placeholder : { buffer: dq },
        { buffer: dO.buffer },
        { buffer: a.k.buffer },
        { buffer: a.v.buffer },
        maskB,
        { buffer: o.buffer },
        { buffer: lse.buffer },
      ],
      s.groups,
    );
    const q = header(rt, a, 2, rows);
    putView(q.p, O, dO, 4);
    q.p.at(LSE + 4);
    rt.dispatch(
      kernel,
      q.p.done(),
      [
        { buffer: dq },
        { buffer: dk },
        { buffer: a.q.buffer },
        { buffer: a.k.buffer },
        { buffer: a.v.buffer },
        maskB,
        { buffer: dO.buffer },
        { buffer: scratch },
      ],
      q.groups,
    );
  }
  const kvRows = B * Hkv * Lk;
  if (kvRows > 0) {
    const kv = header(rt, a, 3, kvRows);
    putView(kv.p, O, dO, 4);
    kv.p.at(LSE + 4);
    rt.dispatch(
      kernel,
      kv.p.done(),
      [
        { buffer: dk },
        { buffer: dv },
        { buffer: a.q.buffer },
        { buffer: a.k.buffer },
        { buffer: a.v.buffer },
        maskB,
        { buffer: dO.buffer },
        { buffer: scratch },
      ],
      kv.groups,
    );
  }
}
