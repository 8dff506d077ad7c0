/// <reference types="@webgpu/types" />
import type { AdamWParams } from "../../backend.js";
import type { GpuRuntime, Kernel } from "../runtime.js";
import { bindRange, grid, PARAMS_WGSL, ParamWriter, WG } from "./common.js";

// params: 0 n, 1 pitch, 2 lr, 3 beta1, 4 beta2, 5 eps, 6 weightDecay, 7 1/(1-β1^t), 8 1/sqrt(1-β2^t),
// 9 grad offset of this chunk, 10 state offset of this chunk (both within the bound ranges)
/** AdamW's update in place, one invocation per element: decay, moments, bias-corrected step. */
const ADAMW_KERNEL: Kernel = {
  key: "adamw",
  code: () => `${PARAMS_WGSL}
@group(0) @binding(1) var<storage, read_write> p: array<f32>;
@group(0) @binding(2) var<storage, read_write> m: array<f32>;
@group(0) @binding(3) var<storage, read_write> v: array<f32>;
@group(0) @binding(4) var<storage, read> g: array<f32>;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let t = gid.x + gid.y * pu(1u);
  if (t >= pu(0u)) { return; }
  let i = t + pu(10u);
  let lr = pf(2u); let b1 = pf(3u); let b2 = pf(4u); let eps = pf(5u); let wd = pf(6u);
  let gi = g[pu(9u) + t];
  let mi = b1 * m[i] + (1.0 - b1) * gi;
  let vi = b2 * v[i] + (1.0 - b2) * gi * gi;
  m[i] = mi;
  v[i] = vi;
  let denom = sqrt(vi) * pf(8u) + eps;
  p[i] = p[i] * (1.0 - lr * wd) - lr * pf(7u) * mi / denom;
}
`,
};

/** Records one AdamW step over `n` contiguous elements (grad read from `gradOffset`). */
export function runAdamW(
  rt: GpuRuntime,
  param: GPUBuffer,
  grad: GPUBuffer,
  gradOffset: number,
  m: GPUBuffer,
  v: GPUBuffer,
  n: number,
  h: AdamWParams,
): void {
  if (n === 0) return;
  const bc1 = 1 - h.beta1 ** h.step;
  const bc2 = 1 - h.beta2 ** h.step;
  // Past one binding's size (128 MiB on some adapters) the update runs in chunks of sub-ranges.
  const big = [param, m, v, grad].some((b) => b.size > rt.maxBinding);
  const chunk = big ? Math.floor(rt.maxBinding / 4 / 2) : n;
  for (let s = 0; s < n; s += chunk) {
    const e = Math.min(n, s + chunk);
    const g = grid(rt, e - s);
    const state = [param, m, v].map((b) => bindRange(rt, b, s, e - 1));
    const gr = bindRange(rt, grad, gradOffset + s, gradOffset + e - 1);
    const shift = state[0].shift;
    if (state.some((r) => r.shift !== shift))
      throw new Error("webgpu: adamw: state buffers bound at different offsets");
    const p = new ParamWriter();
    p.u(e - s)
      .u(g.pitch)
      .f(h.lr)
      .f(h.beta1)
      .f(h.beta2)
      .f(h.eps)
      .f(h.weightDecay);
    p.f(1 / bc1)
      .f(1 / Math.sqrt(bc2))
      .u(gradOffset + s - gr.shift)
      .u(s - shift);
    rt.dispatch(ADAMW_KERNEL, p.done(), [...state.map((r) => r.binding), gr.binding], g.groups);
  }
}
