/// <reference types="@webgpu/types" />
import type { Binding, GpuRuntime, Kernel } from "../runtime.js";
import { coalesce, DTYPE_CODE, type GpuView, numel } from "../view.js";
import {
  bindRange,
  dummyBinding,
  grid,
  PARAMS_WGSL,
  ParamWriter,
  touchedRange,
  WG,
  WORD_WGSL,
} from "./common.js";
import {
  ELEMENTWISE_HELPERS,
  ELEMENTWISE_OPS,
  ELEMENTWISE_TABLE,
  elementwiseOp,
} from "./elementwise-table.js";

const MAX_RANK = 6;
const SLOTS = 4;

// Parameter layout (u32 words).
const N = 0;
const RANK = 1;
const OP = 2;
const OUT_DT = 3;
const FLAGS = 4;
const PITCH = 5;
const S0 = 6;
const S1 = 7;
const BASE = 8;
const OUT_OFF = 9;
const SHAPE = 10;
const OUT_STRIDES = 16;
const IN_DT = 22;
const IN_OFF = 26;
const IN_STRIDES = 30;
const RUN = 54;
/** Elements one invocation of the strided kernel takes along the last dim. */
const RUN_LENGTH = 8;

/** Returns the body of one op's case: binds its argument names to slots, then the expression. */
function caseBody(code: number): string {
  const row = ELEMENTWISE_TABLE[ELEMENTWISE_OPS[code].row];
  const body = `${row.lets ?? ""} ${row.expr}`;
  const lets = row.args
    .map((n, i) => (new RegExp(`\\b${n}\\b`).test(body) ? `let ${n} = v${i};` : ""))
    .join(" ");
  return `case ${code}u: { ${lets} ${row.lets ?? ""} return ${row.expr}; }`;
}

/**
 * Returns the elementwise shader: up to four strided broadcast inputs. With `only` set, the shader
 * holds that one op (CPU-like adapters run every switch case under lane masks, so there each op
 * gets its own pipeline); without, every op of the table behind a uniform switch (one pipeline on
 * real GPUs). `contiguous` drops the index arithmetic; `raw` copies words without conversion.
 */
function elementwiseKernel(only: number | null, contiguous: boolean, raw: boolean): Kernel {
  const name = raw ? "copy" : only === null ? "all" : ELEMENTWISE_OPS[only].name;
  return {
    key: `elementwise.${name}.${contiguous ? "contiguous" : "strided"}`,
    label: (p) => `elementwise ${raw ? "copy" : ELEMENTWISE_OPS[p[OP]]?.name}${contiguous ? "" : " strided"}`,
    code: () => {
      const loads = Array.from(
        { length: SLOTS },
        (_, k) => `
fn load${k}(idx: u32) -> f32 { return word_to_f32(in${k}[idx], pu(${IN_DT + k}u)); }`,
      ).join("");
      const bindings = Array.from(
        { length: SLOTS },
        (_, k) => `@group(0) @binding(${k + 2}) var<storage, read> in${k}: array<u32>;`,
      ).join("\n");
      const ops = only === null ? ELEMENTWISE_OPS : [ELEMENTWISE_OPS[only]];
      const cases = ops.map((o) => caseBody(o.code)).join("\n    ");
      const arity = only === null ? 4 : raw ? 1 : ELEMENTWISE_OPS[only].arity;
      // strided: an invocation takes a run of `RUN` elements along the last dim, so the integer
      // divisions that locate it (scalar on CPU-like adapters) are paid once per run
      const used = raw ? 1 : arity;
      const slot = (k: number) => k < used;
      const index = contiguous
        ? "o0 += i; o1 += i; o2 += i; o3 += i; oo += i;"
        : `let rank = pu(${RANK}u);
    let nl = pu(${SHAPE}u + rank - 1u);
    let run = pu(${RUN}u);
    let cpr = (nl + run - 1u) / run;
    var rem = i / cpr;
    let c0 = (i % cpr) * run;
    oo += c0 * pu(${OUT_STRIDES}u + rank - 1u);
    ${[0, 1, 2, 3]
      .filter(slot)
      .map((k) => `o${k} += c0 * pu(${IN_STRIDES + k * MAX_RANK}u + rank - 1u);`)
      .join(" ")}
    for (var d = 1u; d < rank; d++) {
      let dd = rank - 1u - d;
      let n = pu(${SHAPE}u + dd);
      let c = rem % n;
      rem = rem / n;
      oo += c * pu(${OUT_STRIDES}u + dd);
      ${[0, 1, 2, 3]
        .filter(slot)
        .map((k) => `o${k} += c * pu(${IN_STRIDES + k * MAX_RANK}u + dd);`)
        .join(" ")}
    }
    let lo = pu(${OUT_STRIDES}u + rank - 1u);
    ${[0, 1, 2, 3]
      .filter(slot)
      .map((k) => `let l${k} = pu(${IN_STRIDES + k * MAX_RANK}u + rank - 1u);`)
      .join(" ")}`;
      const one = raw
        ? "out[oo] = in0[o0];"
        : `var v0 = 0.0; var v1 = 0.0; var v2 = 0.0; var v3 = 0.0;
  ${Array.from({ length: arity }, (_, k) => `v${k} = load${k}(o${k});`).join(" ")}
  out[oo] = f32_to_word(apply(pu(${OP}u), v0, v1, v2, v3), pu(${OUT_DT}u));`;
      const body = contiguous
        ? one
        : `for (var j = 0u; j < run; j++) {
    if (c0 + j >= nl) { break; }
    ${one}
    oo += lo; ${[0, 1, 2, 3]
      .filter(slot)
      .map((k) => `o${k} += l${k};`)
      .join(" ")}
  }`;
      return `${PARAMS_WGSL}${WORD_WGSL}${ELEMENTWISE_HELPERS}
@group(0) @binding(1) var<storage, read_write> out: array<u32>;
${bindings}
${loads}
fn apply(op: u32, v0: f32, v1: f32, v2: f32, v3: f32) -> f32 {
  let s0 = pf(${S0}u); let s1 = pf(${S1}u);
  switch op {
    ${cases}
    default: { return 0.0; }
  }
}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let local = gid.x + gid.y * pu(${PITCH}u);
  if (local >= pu(${N}u)) { return; }
  let i = local + pu(${BASE}u);
  var o0 = pu(${IN_OFF}u); var o1 = pu(${IN_OFF + 1}u); var o2 = pu(${IN_OFF + 2}u); var o3 = pu(${IN_OFF + 3}u);
  var oo = pu(${OUT_OFF}u);
  ${index}
  // every binding is referenced so the auto layout keeps all slots
  if (pu(${N}u) == 0xffffffffu) { out[0] = in0[0] + in1[0] + in2[0] + in3[0]; }
  ${body}
}
`;
    },
  };
}

const kernelCache = new Map<string, Kernel>();
/** Returns the cached elementwise kernel for an op on this runtime's adapter class. */
function kernelFor(rt: GpuRuntime, code: number, contiguous: boolean, raw: boolean): Kernel {
  const only = rt.ctx.adapter.isFallbackAdapter || raw ? code : null;
  const key = `${raw ? "raw" : (only ?? "all")}.${contiguous}`;
  let k = kernelCache.get(key);
  if (!k) {
    k = elementwiseKernel(only, contiguous, raw);
    kernelCache.set(key, k);
  }
  return k;
}

/** Returns the broadcast strides of `v` against `shape` (0 where broadcast). */
export function broadcastStrides(
  v: { shape: readonly number[]; strides: readonly number[] },
  shape: readonly number[],
): number[] {
  const out = new Array<number>(shape.length).fill(0);
  const off = shape.length - v.shape.length;
  if (off < 0) throw new Error(`webgpu: cannot broadcast [${v.shape}] to [${shape}]`);
  for (let d = 0; d < v.shape.length; d++) {
    const n = v.shape[d];
    if (n === shape[d + off]) out[d + off] = n === 1 ? 0 : v.strides[d];
    else if (n === 1) out[d + off] = 0;
    else throw new Error(`webgpu: cannot broadcast [${v.shape}] to [${shape}]`);
  }
  return out;
}

/** Scalars some rows read (`clamp` bounds, `affine` scale and shift, `fill` value). */
export interface Scalars {
  s0?: number;
  s1?: number;
}

/**
 * Runs elementwise op `name` over `inputs` (broadcast to `out.shape`), writing `out` (any strides).
 * Derivative rows (`"expGrad"`) take the forward op's input, then the upstream gradient.
 */
export function runElementwise(
  rt: GpuRuntime,
  name: string,
  inputs: readonly GpuView[],
  out: GpuView,
  scalars: Scalars = {},
): void {
  const op = elementwiseOp(name);
  const n = numel(out.shape);
  if (n === 0) return;
  if (inputs.length > SLOTS) throw new Error(`webgpu: ${name}: ${inputs.length} inputs (at most ${SLOTS})`);
  const strided = [out.strides, ...inputs.map((v) => broadcastStrides(v, out.shape))];
  const c = coalesce(out.shape, strided);
  if (c.shape.length > MAX_RANK) {
    throw new Error(`webgpu: ${name}: rank ${c.shape.length} after merging dims (at most ${MAX_RANK})`);
  }
  const shape = c.shape;
  const stridesOut = c.strides[0];
  const stridesIn = c.strides.slice(1);
  const contiguous =
    shape.length <= 1 && [stridesOut, ...stridesIn].every((s) => s.length === 0 || s[0] === 1);

  const big = [out, ...inputs].some((v) => v.buffer.size > rt.maxBinding);
  let chunk = big ? Math.floor(rt.maxBinding / 4 / 2) : n;
  // views read out of row-major order are bound by whole slabs of the first dim: chunk by slabs
  const slab = numel(shape.slice(1));
  if (big && slab <= chunk && shape.length > 1) chunk = Math.floor(chunk / slab) * slab;
  for (let s = 0; s < n; s += chunk) {
    const e = Math.min(n, s + chunk);
    const p = new ParamWriter();
    const raw = name === "identity" && inputs[0].dtype === out.dtype;
    const run = contiguous || big ? 1 : RUN_LENGTH;
    const nl = shape[shape.length - 1] ?? 1;
    const threads = run === 1 ? e - s : (n / nl) * Math.ceil(nl / run);
    p.at(N).u(threads).u(shape.length).u(op.code).u(DTYPE_CODE[out.dtype]);
    p.at(FLAGS).u((contiguous ? 1 : 0) | (inputs.length << 1) | (raw ? 16 : 0));
    const g = grid(rt, threads);
    p.at(PITCH)
      .u(g.pitch)
      .f(scalars.s0 ?? 0)
      .f(scalars.s1 ?? 0)
      .u(s);
    const bindings: Binding[] = [];
    const bindView = (v: GpuView, strides: number[]): { binding: Binding; offset: number } => {
      if (v.buffer.size <= rt.maxBinding) return { binding: { buffer: v.buffer }, offset: v.offset };
      const range = touchedRange(shape, strides, v.offset, s, e);
      if (!range)
        throw new Error(`webgpu: ${name}: a view larger than one binding must be read in row-major order`);
      const r = bindRange(rt, v.buffer, range[0], range[1]);
      return { binding: r.binding, offset: v.offset - r.shift };
    };
    const ob = bindView(out, stridesOut);
    bindings.push(ob.binding);
    p.at(OUT_OFF).u(ob.offset);
    for (let d = 0; d < MAX_RANK; d++) p.at(SHAPE + d).u(shape[d] ?? 1);
    for (let d = 0; d < MAX_RANK; d++) p.at(OUT_STRIDES + d).u(stridesOut[d] ?? 0);
    for (let k = 0; k < SLOTS; k++) {
      const v = inputs[k];
      if (!v) {
        bindings.push(dummyBinding(rt));
        continue;
      }
      const b = bindView(v, stridesIn[k]);
      bindings.push(b.binding);
      p.at(IN_DT + k).u(DTYPE_CODE[v.dtype]);
      p.at(IN_OFF + k).u(b.offset);
      for (let d = 0; d < MAX_RANK; d++) p.at(IN_STRIDES + k * MAX_RANK + d).u(stridesIn[k][d] ?? 0);
    }
    p.at(RUN).u(run);
    rt.dispatch(kernelFor(rt, op.code, contiguous, raw), p.done(), bindings, g.groups);
  }
}
