/// <reference types="@webgpu/types" />
import type { GpuRuntime, Kernel } from "../runtime.js";
import { type GpuView, numel } from "../view.js";
import { grid, PARAMS_WGSL, ParamWriter, ROW_WGSL, writeRowView } from "./common.js";

// params: 0 pairs (rows·h), 1 h, 2 pitch, 3 inverse, 4.. row view of x, 16.. of cos, 28.. of sin
/**
 * Rotary embedding, "rotate half" pairing: one invocation per pair (j, j + h) of a row, reading x,
 * cos and sin through their own row views (cos/sin broadcast with stride 0), writing out contiguous.
 */
const ROPE_KERNEL: Kernel = {
  key: "rope",
  code: () => `${PARAMS_WGSL}${ROW_WGSL}
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> cs: array<f32>;
@group(0) @binding(4) var<storage, read> sn: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let t = gid.x + gid.y * pu(2u);
  if (t >= pu(0u)) { return; }
  let h = pu(1u);
  let r = t / h;
  let j = t % h;
  let xo = row_off(4u, r); let xs = col_stride(4u);
  let x1 = x[xo + j * xs];
  let x2 = x[xo + (j + h) * xs];
  let c = cs[row_off(16u, r) + j * col_stride(16u)];
  var s = sn[row_off(28u, r) + j * col_stride(28u)];
  if (pu(3u) == 1u) { s = -s; }
  out[r * 2u * h + j] = x1 * c - x2 * s;
  out[r * 2u * h + j + h] = x2 * c + x1 * s;
}
`,
};

/** Records out = rope(x) with cos/sin tables (views shaped like x with last dim D/2); `inverse` for the backward. */
export function runRope(
  rt: GpuRuntime,
  x: GpuView,
  cos: GpuView,
  sin: GpuView,
  inverse: boolean,
  out: GPUBuffer,
): void {
  const D = x.shape[x.shape.length - 1] ?? 0;
  const h = D / 2;
  const pairs = D === 0 ? 0 : (numel(x.shape) / D) * h;
  if (pairs === 0) return;
  const g = grid(rt, pairs);
  const p = new ParamWriter()
    .u(pairs)
    .u(h)
    .u(g.pitch)
    .u(inverse ? 1 : 0);
  writeRowView(p, 4, x);
  writeRowView(p, 16, cos);
  writeRowView(p, 28, sin);
  p.at(39);
  rt.dispatch(
    ROPE_KERNEL,
    p.done(),
    [{ buffer: out }, { buffer: x.buffer }, { buffer: cos.buffer }, { buffer: sin.buffer }],
    g.groups,
  );
}
