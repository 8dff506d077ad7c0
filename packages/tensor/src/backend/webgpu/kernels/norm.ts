/// <reference types="@webgpu/types" />
import type { GpuRuntime, Kernel } from "../runtime.js";
import type { GpuView } from "../view.js";
import { groupsFor, PARAMS_WGSL, ParamWriter, ROW_WGSL, writeRowView } from "./common.js";

const WGS = 64;

// params: 0 R, 1 D, 2 mode, 3 gx, 4 eps, 5 flags (1 weight, 2 bias, 4 rms), 6..16 x row view,
// 17..27 dy row view, 28 w off, 29 w stride, 30 b off, 31 b stride, 32 mean off, 33 mean stride, 34 rstd off, 35 rstd stride
/**
 * LayerNorm / RMSNorm over the last axis, one workgroup per row. mode 0: forward (out, mean, rstd);
 * mode 1: dx from the saved statistics; mode 2: dWeight and dBias, one invocation per column.
 */
function normKernel(serial: boolean): Kernel {
  const STEP = serial ? "1u" : `${WGS}u`;
  return {
    key: serial ? "norm.serial" : "norm",
    code: () => `${PARAMS_WGSL}${ROW_WGSL}
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read_write> out2: array<f32>;
@group(0) @binding(3) var<storage, read_write> out3: array<f32>;
@group(0) @binding(4) var<storage, read> x: array<f32>;
@group(0) @binding(5) var<storage, read> w: array<f32>;
@group(0) @binding(6) var<storage, read> b: array<f32>;
@group(0) @binding(7) var<storage, read> stats: array<f32>;
@group(0) @binding(8) var<storage, read> dy: array<f32>;
${
  serial
    ? "fn wg_sum2(tid: u32, v: vec2<f32>) -> vec2<f32> { return v; }"
    : `var<workgroup> red: array<vec2<f32>, ${WGS}>;
fn wg_sum2(tid: u32, v: vec2<f32>) -> vec2<f32> {
  red[tid] = v;
  workgroupBarrier();
  for (var s = ${WGS / 2}u; s > 0u; s = s >> 1u) {
    if (tid < s) { red[tid] = red[tid] + red[tid + s]; }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}`
}
fn weight(c: u32) -> f32 { if ((pu(5u) & 1u) == 0u) { return 1.0; } return w[pu(28u) + c * pu(29u)]; }
fn bias(c: u32) -> f32 { if ((pu(5u) & 2u) == 0u) { return 0.0; } return b[pu(30u) + c * pu(31u)]; }
@compute @workgroup_size(${WGS})
${
  serial
    ? `fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let tid = 0u;
  let item = gid.x + gid.y * pu(3u) * ${WGS}u;`
    : `fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let item = wid.x + wid.y * pu(3u);`
}
  let R = pu(0u); let D = pu(1u); let mode = pu(2u);
  let rms = (pu(5u) & 4u) != 0u;
  let eps = pf(4u);
  if (mode == 2u) {
    // column sums: dWeight[c] = Σ_r dy·xhat, dBias[c] = Σ_r dy
    let c = ${serial ? "item" : `item * ${WGS}u + tid`};
    if (c < D) {
    var gw = 0.0; var gb = 0.0;
    for (var r = 0u; r < R; r++) {
      let xo = row_off(6u, r); let go = row_off(17u, r);
      let g = dy[go + c * col_stride(17u)];
      let mean = select(b[pu(32u) + r * pu(33u)], 0.0, rms);
      let rstd = stats[pu(34u) + r * pu(35u)];
      gw += g * (x[xo + c * col_stride(6u)] - mean) * rstd;
      gb += g;
    }
    out2[c] = gw;
    out3[c] = gb;
    }
    return;
  }
  let r = min(item, R - 1u);
  let xo = row_off(6u, r); let xs = col_stride(6u);
  if (mode == 0u) {
    var acc = vec2<f32>(0.0);
    for (var c = tid; c < D; c += ${STEP}) { let v = x[xo + c * xs]; acc += vec2<f32>(v, v * v); }
    acc = wg_sum2(tid, acc);
    var mean = acc.x / f32(D);
    var varr = max(acc.y / f32(D) - mean * mean, 0.0);
    if (rms) { mean = 0.0; varr = acc.y / f32(D); } else {
      // second pass for a stable variance
      var s2 = vec2<f32>(0.0);
      for (var c = tid; c < D; c += ${STEP}) { let d = x[xo + c * xs] - mean; s2 += vec2<f32>(d * d, 0.0); }
      s2 = wg_sum2(tid, s2);
      varr = s2.x / f32(D);
    }
    let rstd = inverseSqrt(varr + eps);
    if (item < R) {
      for (var c = tid; c < D; c += ${STEP}) { out[r * D + c] = (x[xo + c * xs] - mean) * rstd * weight(c) + bias(c); }
      if (tid == 0u) { if (!rms) { out2[r] = mean; } out3[r] = rstd; }
    }
  } else {
    let go = row_off(17u, r); let gs = col_stride(17u);
    let mean = select(b[pu(32u) + r * pu(33u)], 0.0, rms);
    let rstd = stats[pu(34u) + r * pu(35u)];
    var acc = vec2<f32>(0.0);
    for (var c = tid; c < D; c += ${STEP}) {
      let gh = dy[go + c * gs] * weight(c);
      let xh = (x[xo + c * xs] - mean) * rstd;
      acc += vec2<f32>(gh, gh * xh);
    }
    acc = wg_sum2(tid, acc);
    let m1 = select(acc.x / f32(D), 0.0, rms);
    let m2 = acc.y / f32(D);
    if (item < R) {
      for (var c = tid; c < D; c += ${STEP}) {
        let gh = dy[go + c * gs] * weight(c);
        let xh = (x[xo + c * xs] - mean) * rstd;
        out[r * D + c] = rstd * (gh - m1 - xh * m2);
      }
    }
  }
}
`,
  };
}

const NORM_KERNELS = [normKernel(false), normKernel(true)];
/** Returns the barrier-free variant on CPU-like adapters (barriers are coroutine switches there). */
function normFor(rt: GpuRuntime): Kernel {
  return NORM_KERNELS[rt.ctx.adapter.isFallbackAdapter ? 1 : 0];
}

/** Buffers the norm kernels write, plus a placeholder for unused slots. */
export interface NormTargets {
  out: GPUBuffer;
  out2: GPUBuffer;
  out3: GPUBuffer;
}

function params(
  mode: number,
  gx: number,
  x: GpuView,
  weight: GpuView | null,
  bias: GpuView | null,
  eps: number,
  rms: boolean,
  dy: GpuView | null,
  mean: GpuView | null,
  rstd: GpuView | null,
): ParamWriter {
  const n = x.shape.length;
  const D = x.shape[n - 1];
  const R = n ? x.shape.slice(0, -1).reduce((a, b) => a * b, 1) : 1;
  const p = new ParamWriter();
  p.u(R)
    .u(D)
    .u(mode)
    .u(gx)
    .f(eps)
    .u((weight ? 1 : 0) | (bias ? 2 : 0) | (rms ? 4 : 0));
  writeRowView(p, 6, x);
  writeRowView(p, 17, dy ?? x);
  p.at(28)
    .u(weight?.offset ?? 0)
    .u(weight?.strides[0] ?? 1)
    .u(bias?.offset ?? 0)
    .u(bias?.strides[0] ?? 1);
  p.u(mean?.offset ?? 0)
    .u(mean?.strides[0] ?? 1)
    .u(rstd?.offset ?? 0)
    .u(rstd?.strides[0] ?? 1);
  return p;
}

/** Records LayerNorm/RMSNorm forward over the last axis of x: out, per-row mean and rstd. */
export function runNorm(
  rt: GpuRuntime,
  x: GpuView,
  weight: GpuView | null,
  bias: GpuView | null,
  eps: number,
  rms: boolean,
  t: NormTargets,
): void {
  const R = x.shape.slice(0, -1).reduce((a, b) => a * b, 1);
  if (R === 0) return;
  const g = groupsFor(rt, rt.ctx.adapter.isFallbackAdapter ? Math.ceil(R / WGS) : R);
  const p = params(0, g.gx, x, weight, bias, eps, rms, null, null, null);
  rt.dispatch(
    normFor(rt),
    p.done(),
    [
      { buffer: t.out },
      { buffer: t.out2 },
      { buffer: t.out3 },
      { buffer: x.buffer },
      { buffer: (weight ?? x).buffer },
      { buffer: (bias ?? x).buffer },
      { buffer: x.buffer },
      { buffer: x.buffer },
    ],
    g.groups,
  );
}

/**
 * Records the norm backward: dx into `t.out`; when `params` is true, dWeight into `t.out2` and dBias
 * into `t.out3` (a second dispatch, one invocation per column).
 */
export function runNormBackward(
  rt: GpuRuntime,
  x: GpuView,
  weight: GpuView | null,
  mean: GpuView,
  rstd: GpuView,
  dy: GpuView,
  rms: boolean,
  t: NormTargets,
  withParams: boolean,
): void {
  const R = x.shape.slice(0, -1).reduce((a, b) => a * b, 1);
  const D = x.shape[x.shape.length - 1];
  if (R === 0 || D === 0) return;
  // backward reads the mean through the bias slot and rstd through the stats slot
  const stats = rstd.buffer;
  const g = groupsFor(rt, rt.ctx.adapter.isFallbackAdapter ? Math.ceil(R / WGS) : R);
  const bind = (out: GPUBuffer, out2: GPUBuffer, out3: GPUBuffer) => [
    { buffer: out },
    { buffer: out2 },
    { buffer: out3 },
    { buffer: x.buffer },
    { buffer: (weight ?? x).buffer },
    { buffer: rms ? x.buffer : mean.buffer },
    { buffer: stats },
    { buffer: dy.buffer },
  ];
  const p = params(1, g.gx, x, weight, null, 0, rms, dy, rms ? null : mean, rstd);
  rt.dispatch(normFor(rt), p.done(), bind(t.out, t.out2, t.out3), g.groups);
  if (withParams) {
    const cg = groupsFor(rt, Math.ceil(D / WGS));
    const q = params(2, cg.gx, x, weight, null, 0, rms, dy, rms ? null : mean, rstd);
    rt.dispatch(normFor(rt), q.done(), bind(t.out, t.out2, t.out3), cg.groups);
  }
}
