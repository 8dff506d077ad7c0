/// <reference types="@webgpu/types" />
import type { GpuRuntime, Kernel } from "../runtime.js";
import { type GpuView, numel } from "../view.js";
import { grid, PARAMS_WGSL, ParamWriter, ROW_WGSL, writeRowView } from "./common.js";

// params: 0 rows, 1 h, 2 pitch, 3 inverse, 4.. row view of x, 16.. of cos, 28.. of sin
/**
 * Rotary embedding, "rotate half" pairing: one invocation per row, so each operand's row offset is
 * worked out once and the pairs (j, j + h) follow by strides; x, cos and sin are read through their
 * own row views (cos/sin broadcast with stride 0), out is written contiguous.
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
  let r = gid.x + gid.y * pu(2u);
  if (r >= pu(0u)) { return; }
  let h = pu(1u);
  let xo = row_off(4u, r); let xs = col_stride(4u);
  let co = row_off(16u, r); let ccs = col_stride(16u);
  let so = row_off(28u, r); let ss = col_stride(28u);
  let sign = select(1.0, -1.0, pu(3u) == 1u);
  let oo = r * 2u * h;
  for (var j = 0u; j < h; j++) {
    let x1 = x[xo + j * xs];
    let x2 = x[xo + (j + h) * xs];
    let c = cs[co + j * ccs];
    let s = sign * sn[so + j * ss];
    out[oo + j] = x1 * c - x2 * s;
    out[oo + j + h] = x2 * c + x1 * s;
  }
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
  const rows = D === 0 ? 0 : numel(x.shape) / D;
  if (rows === 0) return;
  const g = grid(rt, rows);
  const p = new ParamWriter()
    .u(rows)
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
