/// <reference types="@webgpu/types" />
import type { Binding, GpuRuntime, Kernel } from "../runtime.js";
import { contiguousStrides, DTYPE_CODE, type GpuView, numel } from "../view.js";
import { bindRange, grid, PARAMS_WGSL, ParamWriter, WG } from "./common.js";

const MAX_RANK = 6;
// params: 0 n, 1 pitch, 2 rank, 3 dim, 4 index1d, 5 dtype, 6 x/src offset, 7 index offset, 8 index stride (1-D),
// 9 dst shift (scatter), 10..15 iteration shape, 16..21 x/src strides, 22..27 index strides, 28..33 out/dst
// strides, 34..35 the window [lo, hi) of index values this dispatch handles (the rest are skipped)
const ITER = /* wgsl */ `
struct Site { src: u32, dst: u32, ok: bool }
fn site(t: u32) -> Site {
  var rem = t;
  var src = pu(6u);
  var io = pu(7u);
  var dst = 0u;
  var at_dim = 0u;
  let rank = pu(2u);
  let dim = pu(3u);
  for (var d = 0u; d < rank; d++) {
    let dd = rank - 1u - d;
    let n = pu(10u + dd);
    let c = rem % n;
    rem = rem / n;
    if (dd == dim) { at_dim = c; }
    io += c * pu(22u + dd);
    src += c * pu(16u + dd);
    dst += c * pu(28u + dd);
  }
  if (pu(4u) == 1u) { io = pu(7u) + at_dim * pu(8u); }
  let raw = idxbuf[io];
  let idx = u32(raw);
  let ok = raw >= pi(34u) && raw < pi(35u);
  return Site(src, dst + idx * pu(28u + dim) - at_dim * pu(28u + dim), ok);
}
`;

/**
 * Gathers along `dim`: out[t] = x[coords of t with coord[dim] replaced by index]. One invocation per
 * output element; the index is read per element (gather) or by the coordinate at `dim` (indexSelect).
 */
const GATHER_KERNEL: Kernel = {
  key: "gather",
  code: () => `${PARAMS_WGSL}
@group(0) @binding(1) var<storage, read_write> out: array<u32>;
@group(0) @binding(2) var<storage, read> x: array<u32>;
@group(0) @binding(3) var<storage, read> idxbuf: array<i32>;
${ITER}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let t = gid.x + gid.y * pu(1u);
  if (t >= pu(0u)) { return; }
  // strides 28.. describe x here: the index replaces the coordinate at dim in x
  let s = site(t);
  if (!s.ok) { return; }
  out[t] = x[pu(6u) + s.dst];
}
`,
};

/**
 * Scatter-adds along `dim`: dst[coords with coord[dim] replaced by index] += src[coords]. One
 * invocation per source element; float adds use a compare-exchange loop (WGSL has no float atomics).
 */
const SCATTER_KERNEL: Kernel = {
  key: "scatterAdd",
  code: () => `${PARAMS_WGSL}
@group(0) @binding(1) var<storage, read_write> dst: array<atomic<u32>>;
@group(0) @binding(2) var<storage, read> src: array<u32>;
@group(0) @binding(3) var<storage, read> idxbuf: array<i32>;
${ITER}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let t = gid.x + gid.y * pu(1u);
  if (t >= pu(0u)) { return; }
  let s = site(t);
  if (!s.ok) { return; }
  let w = src[s.src];
  let at = s.dst - pu(9u);
  if (pu(5u) == 1u) { atomicAdd(&dst[at], w); return; }
  var old = atomicLoad(&dst[at]);
  loop {
    let nv = bitcast<u32>(bitcast<f32>(old) + bitcast<f32>(w));
    let r = atomicCompareExchangeWeak(&dst[at], old, nv);
    if (r.exchanged) { break; }
    old = r.old_value;
  }
}
`,
};

function params(
  rt: GpuRuntime,
  iterShape: readonly number[],
  dim: number,
  index1d: boolean,
  dtype: number,
  srcOffset: number,
  srcStrides: readonly number[],
  index: GpuView,
  dstStrides: readonly number[],
): { p: ParamWriter; groups: [number, number] } {
  if (iterShape.length > MAX_RANK)
    throw new Error(`webgpu: indexing over rank ${iterShape.length} (at most ${MAX_RANK})`);
  const n = numel(iterShape);
  const g = grid(rt, n);
  const p = new ParamWriter();
  p.u(n)
    .u(g.pitch)
    .u(iterShape.length)
    .u(dim)
    .u(index1d ? 1 : 0)
    .u(dtype)
    .u(srcOffset)
    .u(index.offset)
    .u(index.strides[0] ?? 1);
  for (let d = 0; d < MAX_RANK; d++) p.at(10 + d).u(iterShape[d] ?? 1);
  for (let d = 0; d < MAX_RANK; d++) p.at(16 + d).u(srcStrides[d] ?? 0);
  for (let d = 0; d < MAX_RANK; d++) p.at(22 + d).u(index1d ? 0 : (index.strides[d] ?? 0));
  for (let d = 0; d < MAX_RANK; d++) p.at(28 + d).u(dstStrides[d] ?? 0);
  p.at(34).i(0).i(0x7fffffff);
  return { p, groups: g.groups };
}

/**
 * Splits the operand indexed along `dim` (shape, strides, offset in elements) into windows of index
 * values whose elements fit one binding; calls `run(binding, shift, lo, hi)` per window, or once
 * with the whole buffer when it fits.
 */
function windows(
  rt: GpuRuntime,
  op: string,
  buffer: GPUBuffer,
  shape: readonly number[],
  strides: readonly number[],
  offset: number,
  dim: number,
  run: (binding: Binding, shift: number, lo: number, hi: number) => void,
): void {
  if (buffer.size <= rt.maxBinding) {
    run({ buffer }, 0, 0, 0x7fffffff);
    return;
  }
  const stride = strides[dim];
  let inner = 0;
  for (let d = 0; d < shape.length; d++) if (d !== dim) inner += (shape[d] - 1) * strides[d];
  // a window's bytes, with room for the binding's offset alignment
  const room = Math.floor((rt.maxBinding - rt.bindAlign) / 4) - inner - 1;
  const per = stride > 0 ? Math.floor(room / stride) + 1 : shape[dim];
  if (strides.some((x) => x < 0) || room < 0 || per < 1) {
    throw new Error(
      `webgpu: ${op}: an operand of ${buffer.size} bytes exceeds one binding (maxStorageBufferBindingSize ${rt.maxBinding}) and its rows along dim ${dim} cannot be split to fit`,
    );
  }
  for (let lo = 0; lo < shape[dim]; lo += per) {
    const hi = Math.min(shape[dim], lo + per);
    const { binding, shift } = bindRange(
      rt,
      buffer,
      offset + lo * stride,
      offset + (hi - 1) * stride + inner,
    );
    run(binding, shift, lo, hi);
  }
}

/** Records out = x gathered along `dim` by `index` (1-D: indexSelect; same rank: gather). */
export function runGather(
  rt: GpuRuntime,
  x: GpuView,
  index: GpuView,
  dim: number,
  index1d: boolean,
  out: GPUBuffer,
  outShape: readonly number[],
): void {
  if (numel(outShape) === 0) return;
  // iterate over out; "dst" strides are x's strides (the gathered coordinate lands in x)
  const { p, groups } = params(
    rt,
    outShape,
    dim,
    index1d,
    DTYPE_CODE[x.dtype],
    x.offset,
    contiguousStrides(outShape),
    index,
    x.strides,
  );
  // site().dst = Σ c·x.strides with coord[dim] replaced by the index; read x at offset + dst.
  // An x past one binding is bound a window of its rows along dim at a time.
  windows(rt, "gather", x.buffer, x.shape, x.strides, x.offset, dim, (binding, shift, lo, hi) => {
    p.at(6).u(x.offset - shift);
    p.at(34).i(lo).i(hi);
    rt.dispatch(GATHER_KERNEL, p.done(), [{ buffer: out }, binding, { buffer: index.buffer }], groups);
  });
}

/** Records dst (contiguous, `dstShape`) += src scattered along `dim` by `index` (1-D: indexAdd). */
export function runScatterAdd(
  rt: GpuRuntime,
  dst: GPUBuffer,
  dstShape: readonly number[],
  dstDtype: "float32" | "int32",
  index: GpuView,
  src: GpuView,
  dim: number,
  index1d: boolean,
): void {
  const iter = index1d ? src.shape : index.shape;
  if (numel(iter) === 0) return;
  const { p, groups } = params(
    rt,
    iter,
    dim,
    index1d,
    DTYPE_CODE[dstDtype],
    src.offset,
    src.strides,
    index,
    contiguousStrides(dstShape),
  );
  // a dst past one binding is bound a window of its rows along dim at a time
  const strides = contiguousStrides(dstShape);
  windows(rt, "scatterAdd", dst, dstShape, strides, 0, dim, (binding, shift, lo, hi) => {
    p.at(9).u(shift);
    p.at(34).i(lo).i(hi);
    rt.dispatch(
      SCATTER_KERNEL,
      p.done(),
      [binding, { buffer: src.buffer }, { buffer: index.buffer }],
      groups,
    );
  });
}
