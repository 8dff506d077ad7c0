/// <reference types="@webgpu/types" />
import type { GpuRuntime, Kernel } from "../runtime.js";
import type { GpuView } from "../view.js";
import { groupsFor, PARAMS_WGSL, ParamWriter, ROW_WGSL, WORD_WGSL, writeRowView } from "./common.js";

const WGS = 64;

// Shared by both shaders: a workgroup-wide max and sum over one row (tree in workgroup memory).
const TREE_WGSL = /* wgsl */ `
var<workgroup> red: array<f32, ${WGS}>;
fn wg_max(tid: u32, v: f32) -> f32 {
  red[tid] = v;
  workgroupBarrier();
  for (var s = ${WGS / 2}u; s > 0u; s = s >> 1u) {
    if (tid < s) { red[tid] = max(red[tid], red[tid + s]); }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}
fn wg_sum(tid: u32, v: f32) -> f32 {
  red[tid] = v;
  workgroupBarrier();
  for (var s = ${WGS / 2}u; s > 0u; s = s >> 1u) {
    if (tid < s) { red[tid] = red[tid] + red[tid + s]; }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}
fn neg_inf() -> f32 { return bitcast<f32>(0xff800000u | (pu(0u) & 0u)); }
`;

// params: 0 rows, 1 cols, 2 mode, 3 gx, 4.. row view A (11 words), 16.. row view B, 28.. views of 1-D vectors
/**
 * Row-wise fused kernels, one workgroup per row, selected by `mode`: 0 softmax, 1 logSoftmax,
 * 2 softmax backward, 3 logSoftmax backward.
 */
const SOFTMAX_KERNEL: Kernel = {
  key: "softmax",
  code: () => `${PARAMS_WGSL}${ROW_WGSL}${TREE_WGSL}
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> dy: array<f32>;
@compute @workgroup_size(${WGS})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let row = wid.x + wid.y * pu(3u);
  let rows = pu(0u);
  let C = pu(1u);
  let mode = pu(2u);
  let r = min(row, rows - 1u);
  let xo = row_off(4u, r); let xs = col_stride(4u);
  let go = row_off(16u, r); let gs = col_stride(16u);
  let oo = r * C;
  if (mode < 2u) {
    var m = neg_inf();
    for (var c = tid; c < C; c += ${WGS}u) { m = max(m, x[xo + c * xs]); }
    m = wg_max(tid, m);
    var s = 0.0;
    for (var c = tid; c < C; c += ${WGS}u) { s += exp(x[xo + c * xs] - m); }
    s = wg_sum(tid, s);
    if (row < rows) {
      if (mode == 0u) {
        let inv = 1.0 / s;
        for (var c = tid; c < C; c += ${WGS}u) { out[oo + c] = exp(x[xo + c * xs] - m) * inv; }
      } else {
        let l = m + log(s);
        for (var c = tid; c < C; c += ${WGS}u) { out[oo + c] = x[xo + c * xs] - l; }
      }
    }
  } else {
    // x holds y (the forward output); dy the upstream gradient
    var s = 0.0;
    if (mode == 2u) {
      for (var c = tid; c < C; c += ${WGS}u) { s += x[xo + c * xs] * dy[go + c * gs]; }
    } else {
      for (var c = tid; c < C; c += ${WGS}u) { s += dy[go + c * gs]; }
    }
    s = wg_sum(tid, s);
    if (row < rows) {
      if (mode == 2u) {
        for (var c = tid; c < C; c += ${WGS}u) { let y = x[xo + c * xs]; out[oo + c] = y * (dy[go + c * gs] - s); }
      } else {
        for (var c = tid; c < C; c += ${WGS}u) { out[oo + c] = dy[go + c * gs] - exp(x[xo + c * xs]) * s; }
      }
    }
  }
}
`,
};

function rowsOf(v: GpuView): { rows: number; cols: number } {
  const cols = v.shape.length ? v.shape[v.shape.length - 1] : 1;
  let rows = 1;
  for (let d = 0; d < v.shape.length - 1; d++) rows *= v.shape[d];
  return { rows, cols };
}

/** Records softmax (or log-softmax) of `x` along its last axis into contiguous `out`. */
export function runSoftmax(rt: GpuRuntime, x: GpuView, log: boolean, out: GPUBuffer): void {
  const { rows, cols } = rowsOf(x);
  if (rows === 0 || cols === 0) return;
  const g = groupsFor(rt, rows);
  const p = new ParamWriter();
  p.u(rows)
    .u(cols)
    .u(log ? 1 : 0)
    .u(g.gx);
  writeRowView(p, 4, x);
  writeRowView(p, 16, x);
  p.at(28);
  rt.dispatch(
    SOFTMAX_KERNEL,
    p.done(),
    [{ buffer: out }, { buffer: x.buffer }, { buffer: x.buffer }],
    g.groups,
  );
}

/** Records the softmax (or log-softmax) backward given the forward output `y` and `dy`. */
export function runSoftmaxBackward(
  rt: GpuRuntime,
  y: GpuView,
  dy: GpuView,
  log: boolean,
  out: GPUBuffer,
): void {
  const { rows, cols } = rowsOf(y);
  if (rows === 0 || cols === 0) return;
  const g = groupsFor(rt, rows);
  const p = new ParamWriter();
  p.u(rows)
    .u(cols)
    .u(log ? 3 : 2)
    .u(g.gx);
  writeRowView(p, 4, y);
  writeRowView(p, 16, dy);
  p.at(28);
  rt.dispatch(
    SOFTMAX_KERNEL,
    p.done(),
    [{ buffer: out }, { buffer: y.buffer }, { buffer: dy.buffer }],
    g.groups,
  );
}

// params: 0 rows N, 1 classes C, 2 mode (0 fwd, 1 bwd), 3 gx, 4 ignoreIndex (i32), 5 smoothing (f32),
// 6..16 logits row view, 20 target offset, 21 target stride, 22 lse offset, 23 lse stride, 24 dLoss offset, 25 dLoss stride
/**
 * Fused cross entropy, one workgroup per row: forward writes the row's loss and logsumexp; backward
 * writes dlogits = dLoss·(softmax − (1−ε)·onehot − ε/C) from the saved logsumexp.
 */
const CROSS_ENTROPY_KERNEL: Kernel = {
  key: "crossEntropy",
  code: () => `${PARAMS_WGSL}${ROW_WGSL}${WORD_WGSL}${TREE_WGSL}
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read_write> out2: array<f32>;
@group(0) @binding(3) var<storage, read> x: array<f32>;
@group(0) @binding(4) var<storage, read> tgt: array<i32>;
@group(0) @binding(5) var<storage, read> aux: array<f32>;
@group(0) @binding(6) var<storage, read> aux2: array<f32>;
@compute @workgroup_size(${WGS})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let row = wid.x + wid.y * pu(3u);
  let rows = pu(0u);
  let C = pu(1u);
  let r = min(row, rows - 1u);
  let xo = row_off(6u, r); let xs = col_stride(6u);
  let t = tgt[pu(20u) + r * pu(21u)];
  let ignored = t == pi(4u);
  let eps = pf(5u);
  if (pu(2u) == 0u) {
    var m = neg_inf();
    for (var c = tid; c < C; c += ${WGS}u) { m = max(m, x[xo + c * xs]); }
    m = wg_max(tid, m);
    var s = 0.0;
    var sx = 0.0;
    for (var c = tid; c < C; c += ${WGS}u) { let v = x[xo + c * xs]; s += exp(v - m); sx += v; }
    s = wg_sum(tid, s);
    sx = wg_sum(tid, sx);
    if (tid == 0u && row < rows) {
      let lse = m + log(s);
      out2[r] = lse;
      if (ignored) { out[r] = 0.0; } else {
        let xt = x[xo + u32(t) * xs];
        out[r] = (1.0 - eps) * (lse - xt) + eps * (lse - sx / f32(C));
      }
    }
  } else {
    if (row < rows) {
      let lse = aux[pu(22u) + r * pu(23u)];
      let dl = select(aux2[pu(24u) + r * pu(25u)], 0.0, ignored);
      for (var c = tid; c < C; c += ${WGS}u) {
        let p = exp(x[xo + c * xs] - lse);
        let hot = select(0.0, 1.0 - eps, i32(c) == t);
        out[r * C + c] = dl * (p - hot - eps / f32(C));
      }
    }
  }
}
`,
};

/** Records per-row cross-entropy losses and logsumexps of logits [N, C] against int32 targets. */
export function runCrossEntropy(
  rt: GpuRuntime,
  logits: GpuView,
  target: GpuView,
  ignoreIndex: number,
  smoothing: number,
  outLoss: GPUBuffer,
  outLse: GPUBuffer,
): void {
  const [N, C] = logits.shape;
  if (N === 0) return;
  const g = groupsFor(rt, N);
  const p = new ParamWriter();
  p.u(N).u(C).u(0).u(g.gx).i(ignoreIndex).f(smoothing);
  writeRowView(p, 6, logits);
  p.at(20)
    .u(target.offset)
    .u(target.strides[0] ?? 1)
    .u(0)
    .u(0)
    .u(0)
    .u(0);
  rt.dispatch(
    CROSS_ENTROPY_KERNEL,
    p.done(),
    [
      { buffer: outLoss },
      { buffer: outLse },
      { buffer: logits.buffer },
      { buffer: target.buffer },
      { buffer: logits.buffer },
      { buffer: logits.buffer },
    ],
    g.groups,
  );
}

/** Records dlogits [N, C] of the cross entropy from the saved logsumexp and per-row dLoss. */
export function runCrossEntropyBackward(
  rt: GpuRuntime,
  logits: GpuView,
  target: GpuView,
  lse: GpuView,
  dLoss: GpuView,
  ignoreIndex: number,
  smoothing: number,
  out: GPUBuffer,
  scratch: GPUBuffer,
): void {
  const [N, C] = logits.shape;
  if (N === 0 || C === 0) return;
  const g = groupsFor(rt, N);
  const p = new ParamWriter();
  p.u(N).u(C).u(1).u(g.gx).i(ignoreIndex).f(smoothing);
  writeRowView(p, 6, logits);
  p.at(20)
    .u(target.offset)
    .u(target.strides[0] ?? 1)
    .u(lse.offset)
    .u(lse.strides[0] ?? 1)
    .u(dLoss.offset)
    .u(dLoss.strides[0] ?? 1);
  rt.dispatch(
    CROSS_ENTROPY_KERNEL,
    p.done(),
    [
      { buffer: out },
      { buffer: scratch },
      { buffer: logits.buffer },
      { buffer: target.buffer },
      { buffer: lse.buffer },
      { buffer: dLoss.buffer },
    ],
    g.groups,
  );
}
