/// <reference types="@webgpu/types" />
import type { GpuRuntime, Kernel } from "../runtime.js";
import { coalesce, DTYPE_CODE, type GpuView, numel } from "../view.js";
import { PARAMS_WGSL, ParamWriter, WORD_WGSL } from "./common.js";

const MAX_RANK = 6;
const TREE = 128;

const REDUCE_HELPERS = /* wgsl */ `
fn combine(op: u32, a: f32, ai: u32, b: f32, bi: u32) -> vec2<f32> {
  // returns (value, index as f32 bits) of the winner
  switch op {
    case 0u, 1u: { return vec2<f32>(a + b, 0.0); }
    case 4u: { return vec2<f32>(a * b, 0.0); }
    case 2u, 5u: {
      let take_b = (b > a) || (b == a && bi < ai) || (b != b && a == a);
      return vec2<f32>(select(a, b, take_b), bitcast<f32>(select(ai, bi, take_b)));
    }
    default: {
      let take_b = (b < a) || (b == a && bi < ai) || (b != b && a == a);
      return vec2<f32>(select(a, b, take_b), bitcast<f32>(select(ai, bi, take_b)));
    }
  }
}
fn identity(op: u32) -> f32 {
  switch op {
    case 2u, 5u: { return bitcast<f32>(0xff800000u | (pu(0u) & 0u)); }
    case 3u, 6u: { return bitcast<f32>(0x7f800000u | (pu(0u) & 0u)); }
    case 4u: { return 1.0; }
    default: { return 0.0; }
  }
}
`;

/** Reduction op codes shared by the shader and the host. */
export const REDUCE_CODE = { sum: 0, mean: 1, max: 2, min: 3, prod: 4, argmax: 5, argmin: 6 } as const;
export type ReduceCode = keyof typeof REDUCE_CODE;

// params: 0 outputs, 1 R, 2 op, 3 in dtype, 4 out dtype, 5 keptRank, 6 redRank, 7 in offset, 8 groups.x,
// 10..15 kept shape, 16..21 kept strides, 22..27 reduced shape, 28..33 reduced strides
/**
 * The reduction shader: a workgroup per output element reduces its slice as a tree in workgroup
 * memory (sum, mean, max, min, prod, argmax, argmin; first index wins ties).
 */
export const REDUCE_KERNEL: Kernel = {
  key: "reduce",
  code: () => `${PARAMS_WGSL}${WORD_WGSL}
@group(0) @binding(1) var<storage, read_write> out: array<u32>;
@group(0) @binding(2) var<storage, read> x: array<u32>;
var<workgroup> sv: array<f32, ${TREE}>;
var<workgroup> si: array<u32, ${TREE}>;
${REDUCE_HELPERS}
@compute @workgroup_size(${TREE})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let o = wid.x + wid.y * pu(8u);
  let outputs = pu(0u);
  let in_range = o < outputs;
  let op = pu(2u);
  let dt = pu(3u);
  var base = pu(7u);
  if (in_range) {
    var rem = o;
    let kr = pu(5u);
    for (var d = 0u; d < kr; d++) {
      let dd = kr - 1u - d;
      let n = pu(10u + dd);
      base += (rem % n) * pu(16u + dd);
      rem = rem / n;
    }
  }
  var acc = identity(op);
  var accI = 0xffffffffu;
  let R = pu(1u);
  let rr = pu(6u);
  if (in_range) {
    for (var r = tid; r < R; r += ${TREE}u) {
      var rem = r;
      var off = base;
      for (var d = 0u; d < rr; d++) {
        let dd = rr - 1u - d;
        let n = pu(22u + dd);
        off += (rem % n) * pu(28u + dd);
        rem = rem / n;
      }
      let c = combine(op, acc, accI, word_to_f32(x[off], dt), r);
      acc = c.x;
      accI = bitcast<u32>(c.y);
    }
  }
  sv[tid] = acc;
  si[tid] = accI;
  workgroupBarrier();
  for (var s = ${TREE / 2}u; s > 0u; s = s >> 1u) {
    if (tid < s) {
      let c = combine(op, sv[tid], si[tid], sv[tid + s], si[tid + s]);
      sv[tid] = c.x;
      si[tid] = bitcast<u32>(c.y);
    }
    workgroupBarrier();
  }
  if (tid == 0u && in_range) {
    if (op >= 5u) { out[o] = si[0]; return; }
    var v = sv[0];
    if (op == 1u) { v = v / f32(R); }
    out[o] = f32_to_word(v, pu(4u));
  }
}
`,
};

/**
 * The serial reduction shader: one invocation per output walks its whole slice. Used when slices
 * are short or outputs many, where a workgroup per output would leave most lanes idle.
 */
export const REDUCE_SERIAL_KERNEL: Kernel = {
  key: "reduce.serial",
  code: () => `${PARAMS_WGSL}${WORD_WGSL}${REDUCE_HELPERS}
@group(0) @binding(1) var<storage, read_write> out: array<u32>;
@group(0) @binding(2) var<storage, read> x: array<u32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let o = gid.x + gid.y * pu(8u) * 64u;
  if (o >= pu(0u)) { return; }
  let op = pu(2u);
  let dt = pu(3u);
  var base = pu(7u);
  var rem = o;
  let kr = pu(5u);
  for (var d = 0u; d < kr; d++) {
    let dd = kr - 1u - d;
    let n = pu(10u + dd);
    base += (rem % n) * pu(16u + dd);
    rem = rem / n;
  }
  var acc = identity(op);
  var accI = 0xffffffffu;
  let R = pu(1u);
  let rr = pu(6u);
  for (var r = 0u; r < R; r++) {
    var rem2 = r;
    var off = base;
    for (var d = 0u; d < rr; d++) {
      let dd = rr - 1u - d;
      let n = pu(22u + dd);
      off += (rem2 % n) * pu(28u + dd);
      rem2 = rem2 / n;
    }
    let c = combine(op, acc, accI, word_to_f32(x[off], dt), r);
    acc = c.x;
    accI = bitcast<u32>(c.y);
  }
  if (op >= 5u) { out[o] = accI; return; }
  if (op == 1u) { acc = acc / f32(R); }
  out[o] = f32_to_word(acc, pu(4u));
}
`,
};

/** Reduces `x` over `axes` into contiguous `out` (x's shape with those axes removed, in order). */
export function runReduce(
  rt: GpuRuntime,
  op: ReduceCode,
  x: GpuView,
  axes: readonly number[],
  out: GpuView,
): void {
  const keptShape: number[] = [];
  const keptStrides: number[] = [];
  const redShape: number[] = [];
  const redStrides: number[] = [];
  x.shape.forEach((n, d) => {
    if (axes.includes(d)) {
      redShape.push(n);
      redStrides.push(x.strides[d]);
    } else {
      keptShape.push(n);
      keptStrides.push(x.strides[d]);
    }
  });
  const kept = coalesce(keptShape, [keptStrides]);
  const red = coalesce(redShape, [redStrides]);
  if (kept.shape.length > MAX_RANK || red.shape.length > MAX_RANK) {
    throw new Error(`webgpu: reduce over [${x.shape}] axes [${axes}]: too many non-mergeable dims`);
  }
  const outputs = numel(keptShape);
  const R = numel(redShape);
  if (outputs === 0) return;
  if (x.buffer.size > rt.maxBinding) {
    throw new Error(`webgpu: reduce: input of ${x.buffer.size} bytes exceeds one binding (${rt.maxBinding})`);
  }
  const serial = R <= 64 || outputs >= 16384;
  const maxX = Math.min(rt.ctx.adapter.limits.maxComputeWorkgroupsPerDimension, 32768);
  const groups = serial ? Math.ceil(outputs / 64) : outputs;
  const gx = Math.min(groups, maxX);
  const gy = Math.ceil(groups / gx);
  const p = new ParamWriter();
  p.u(outputs).u(R).u(REDUCE_CODE[op]).u(DTYPE_CODE[x.dtype]).u(DTYPE_CODE[out.dtype]);
  p.u(kept.shape.length).u(red.shape.length).u(x.offset).u(gx);
  for (let d = 0; d < MAX_RANK; d++) p.at(10 + d).u(kept.shape[d] ?? 1);
  for (let d = 0; d < MAX_RANK; d++) p.at(16 + d).u(kept.strides[0][d] ?? 0);
  for (let d = 0; d < MAX_RANK; d++) p.at(22 + d).u(red.shape[d] ?? 1);
  for (let d = 0; d < MAX_RANK; d++) p.at(28 + d).u(red.strides[0][d] ?? 0);
  rt.dispatch(
    serial ? REDUCE_SERIAL_KERNEL : REDUCE_KERNEL,
    p.done(),
    [{ buffer: out.buffer, offset: out.offset * 4, size: undefined }, { buffer: x.buffer }],
    [gx, gy],
  );
}
