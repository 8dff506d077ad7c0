/// <reference types="@webgpu/types" />
import type { Binding, GpuRuntime } from "../runtime.js";

/** WGSL prelude shared by every kernel: the parameter block and word access helpers. */
export const PARAMS_WGSL = /* wgsl */ `
struct Params { v: array<vec4<u32>, 16> }
@group(0) @binding(0) var<uniform> P: Params;
fn pu(i: u32) -> u32 { return P.v[i / 4u][i % 4u]; }
fn pf(i: u32) -> f32 { return bitcast<f32>(P.v[i / 4u][i % 4u]); }
fn pi(i: u32) -> i32 { return bitcast<i32>(P.v[i / 4u][i % 4u]); }
`;

/** Returns WGSL that decodes a stored word of dtype code `dt` (0 f32, 1 i32, 2 bool) to f32. */
export const WORD_WGSL = /* wgsl */ `
fn word_to_f32(w: u32, dt: u32) -> f32 {
  if (dt == 0u) { return bitcast<f32>(w); }
  if (dt == 1u) { return f32(bitcast<i32>(w)); }
  return f32(w);
}
fn f32_to_word(v: f32, dt: u32) -> u32 {
  if (dt == 0u) { return bitcast<u32>(v); }
  if (dt == 1u) { return bitcast<u32>(i32(v)); }
  return select(0u, 1u, v != 0.0);
}
`;

/** Threads per workgroup for one-thread-per-element kernels. */
export const WG = 64;

/** Returns a 2D workgroup grid covering `threads` threads at `wg` per group, and the row pitch. */
export function grid(rt: GpuRuntime, threads: number, wg = WG): { groups: [number, number]; pitch: number } {
  const total = Math.max(1, Math.ceil(threads / wg));
  const maxX = Math.min(rt.ctx.adapter.limits.maxComputeWorkgroupsPerDimension, 32768);
  const gx = Math.min(total, maxX);
  const gy = Math.ceil(total / gx);
  return { groups: [gx, gy], pitch: gx * wg };
}

/** Parameter block builder: u32, i32 and f32 words in order. */
export class ParamWriter {
  readonly words = new Uint32Array(64);
  private readonly f32 = new Float32Array(this.words.buffer);
  private readonly i32 = new Int32Array(this.words.buffer);
  n = 0;
  u(v: number): this {
    this.words[this.n++] = v >>> 0;
    return this;
  }
  i(v: number): this {
    this.i32[this.n++] = v;
    return this;
  }
  f(v: number): this {
    this.f32[this.n++] = v;
    return this;
  }
  at(index: number): this {
    this.n = index;
    return this;
  }
  /** Returns the filled words. */
  done(): Uint32Array {
    return this.words.subarray(0, Math.max(this.n, 4));
  }
}

let dummy: WeakMap<GPUDevice, GPUBuffer> = new WeakMap();
/** Returns a small buffer to bind in unused slots. */
export function dummyBinding(rt: GpuRuntime): Binding {
  let b = dummy.get(rt.device);
  if (!b) {
    b = rt.device.createBuffer({ size: 256, usage: GPUBufferUsage.STORAGE });
    dummy.set(rt.device, b);
  }
  return { buffer: b };
}

/** Resets module state (tests that recreate devices). */
export function resetDummies(): void {
  dummy = new WeakMap();
}

/**
 * Element range [lo, hi] a strided view touches for output linear indices [s, e): exact when the view
 * reads in row-major order, else bounded by the slabs of the first dim that [s, e) crosses.
 */
export function touchedRange(
  shape: readonly number[],
  strides: readonly number[],
  offset: number,
  s: number,
  e: number,
): [number, number] | null {
  if (strides.some((x) => x < 0)) return null;
  // Monotone when each stride covers at least the extent of the dims after it (row-major order).
  let extent = 1;
  let monotone = true;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d] > 1 && strides[d] !== 0 && strides[d] < extent) monotone = false;
    if (shape[d] > 1 && strides[d] !== 0) extent = Math.max(extent, strides[d] * shape[d]);
  }
  if (!monotone) {
    const inner = shape.slice(1).reduce((a, b) => a * b, 1);
    let rest = 0;
    for (let d = 1; d < shape.length; d++) rest += (shape[d] - 1) * strides[d];
    const st0 = strides[0] ?? 0;
    return [offset + Math.floor(s / inner) * st0, offset + Math.floor((e - 1) / inner) * st0 + rest];
  }
  const at = (lin: number): number => {
    let off = offset;
    for (let d = shape.length - 1; d >= 0; d--) {
      off += (lin % shape[d]) * strides[d];
      lin = Math.floor(lin / shape[d]);
    }
    return off;
  };
  return [at(s), at(e - 1)];
}

/**
 * Returns a binding of `buffer` covering elements [lo, hi] and the element shift to subtract from
 * indices, aligned as the device requires; or the whole buffer when it fits a binding.
 */
export function bindRange(
  rt: GpuRuntime,
  buffer: GPUBuffer,
  lo: number,
  hi: number,
): { binding: Binding; shift: number } {
  if (buffer.size <= rt.maxBinding) return { binding: { buffer }, shift: 0 };
  const alignEl = rt.bindAlign / 4;
  const start = Math.floor(lo / alignEl) * alignEl;
  const bytes = Math.ceil(((hi + 1 - start) * 4) / 4) * 4;
  if (bytes > rt.maxBinding) {
    throw new Error(
      `webgpu: a chunk needs ${bytes} bytes bound at once, above maxStorageBufferBindingSize ${rt.maxBinding}`,
    );
  }
  return { binding: { buffer, offset: start * 4, size: bytes }, shift: start };
}

/** Words a row view occupies in a parameter block (see `ROW_WGSL`). */
export const ROW_WORDS = 11;

/**
 * Writes the row decomposition of `v` (rows = all dims but the last) at word `at`:
 * offset, last-axis stride, rank, shape[4], strides[4]. Leading dims are merged where possible.
 */
export function writeRowView(
  p: ParamWriter,
  at: number,
  v: { shape: readonly number[]; strides: readonly number[]; offset: number },
): void {
  const n = v.shape.length;
  const lead: number[] = [];
  const leadStrides: number[] = [];
  for (let d = 0; d < n - 1; d++) {
    if (v.shape[d] === 1) continue;
    const l = lead.length - 1;
    if (l >= 0 && leadStrides[l] === v.strides[d] * v.shape[d]) {
      lead[l] *= v.shape[d];
      leadStrides[l] = v.strides[d];
    } else {
      lead.push(v.shape[d]);
      leadStrides.push(v.strides[d]);
    }
  }
  if (lead.length > 4)
    throw new Error(`webgpu: a row view of shape [${v.shape}] has too many non-mergeable leading dims`);
  p.at(at)
    .u(v.offset)
    .u(n > 0 ? v.strides[n - 1] : 1)
    .u(lead.length);
  for (let d = 0; d < 4; d++) p.at(at + 3 + d).u(lead[d] ?? 1);
  for (let d = 0; d < 4; d++) p.at(at + 7 + d).u(leadStrides[d] ?? 0);
}

/** WGSL: element offset of row `r` of the row view stored at word `at`, and its column stride. */
export const ROW_WGSL = /* wgsl */ `
fn row_off(at: u32, r: u32) -> u32 {
  var rem = r;
  var off = pu(at);
  let rank = pu(at + 2u);
  for (var d = 0u; d < rank; d++) {
    let dd = rank - 1u - d;
    let n = pu(at + 3u + dd);
    off += (rem % n) * pu(at + 7u + dd);
    rem = rem / n;
  }
  return off;
}
fn col_stride(at: u32) -> u32 { return pu(at + 1u); }
`;

/** Returns a workgroup grid with one workgroup per item (2D past the per-dimension limit) and its x size. */
export function groupsFor(rt: GpuRuntime, items: number): { groups: [number, number]; gx: number } {
  const maxX = Math.min(rt.ctx.adapter.limits.maxComputeWorkgroupsPerDimension, 32768);
  const gx = Math.max(1, Math.min(items, maxX));
  return { groups: [gx, Math.max(1, Math.ceil(items / gx))], gx };
}
