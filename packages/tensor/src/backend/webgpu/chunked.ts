/// <reference types="@webgpu/types" />
// Ops whose operands exceed one storage binding (128 MiB on many adapters) run in chunks of rows:
// each chunk's rows are copied into small pooled buffers (copies have no binding limit), the op's
// ordinary kernels run on those, and the chunk's results are copied (or folded) into the big
// outputs. Kernels stay unaware of the split.
import { dummyBinding, grid, PARAMS_WGSL, ParamWriter } from "./kernels/common.js";
import type { GpuRuntime, Kernel } from "./runtime.js";
import type { GpuView } from "./view.js";

/**
 * Largest chunk staged at once: a quarter of one binding, so pool rounding (at most a quarter up)
 * never crosses it; at least 64 KiB, which only a cap lowered for tests comes near.
 */
function budget(rt: GpuRuntime): number {
  return Math.max(1 << 16, Math.floor(rt.maxBinding / 4));
}

/** True when any buffer is larger than one binding. */
export function tooBig(rt: GpuRuntime, ...buffers: (GPUBuffer | null | undefined)[]): boolean {
  return buffers.some((b) => b && b.size > rt.maxBinding);
}

/** A view whose leading `lead` dims are merged into rows with one stride, or null when they cannot be. */
export interface RowView {
  view: GpuView;
  rows: number;
  rowStride: number;
  rest: readonly number[];
  restStrides: readonly number[];
}

/** Merges the first `lead` dims of `v` into one row dim (strides permitting); null when they do not merge. */
export function rowView(v: GpuView, lead: number): RowView | null {
  let rows = 1;
  let rowStride = 0;
  let first = true;
  for (let d = lead - 1; d >= 0; d--) {
    const n = v.shape[d];
    if (n === 1) continue;
    if (first) {
      rowStride = v.strides[d];
      first = false;
    } else if (v.strides[d] !== rowStride * rows) {
      return null;
    }
    rows *= n;
  }
  if (v.strides.some((s) => s < 0)) return null;
  return { view: v, rows, rowStride, rest: v.shape.slice(lead), restStrides: v.strides.slice(lead) };
}

/** Elements spanned by `n` rows of `r` (from the first row's first element). */
function span(r: RowView, n: number): number {
  let inner = 1;
  for (let d = 0; d < r.rest.length; d++) inner += (r.rest[d] - 1) * r.restStrides[d];
  return n === 0 ? 0 : (n - 1) * r.rowStride + inner;
}

/** A row-wise output of a chunked op: `rowWords` words per row, or folded across chunks. */
export interface ChunkOutput {
  buffer: GPUBuffer;
  /** Words each row writes; 0 for an output every chunk writes whole (`fold` combines them). */
  rowWords: number;
  /** Words of a whole output (for `rowWords` 0). */
  words?: number;
  /** Combines a chunk's whole output into the running result: `fold(acc, part)` records the update. */
  fold?: (acc: GPUBuffer, part: GPUBuffer, words: number) => void;
}

/**
 * Runs `run` over chunks of `rows` rows. Every input is a row view split with the rows (operands that
 * do not split, such as a norm's weight, stay in the caller's closure); each chunk gets a copy of its
 * rows' span with the same strides. Outputs with `rowWords` > 0 are copied back at their rows; whole
 * outputs are copied from the first chunk and folded from the others.
 */
export function runInRowChunks(
  rt: GpuRuntime,
  op: string,
  rows: number,
  inputs: readonly RowView[],
  outputs: readonly ChunkOutput[],
  run: (views: GpuView[], outs: GPUBuffer[], rows: number, firstRow: number) => void,
): void {
  const cap = budget(rt);
  let n = rows;
  const fits = (k: number) =>
    inputs.every((r) => span(r, k) * 4 <= cap) &&
    outputs.every((o) => (o.rowWords > 0 ? k * o.rowWords : (o.words ?? 0)) * 4 <= cap);
  if (!fits(1)) {
    throw new Error(
      `webgpu: ${op}: one row needs more than ${cap} bytes staged at once; no split fits one binding (maxStorageBufferBindingSize ${rt.maxBinding})`,
    );
  }
  while (n > 1 && !fits(n)) n = Math.ceil(n / 2);
  for (let r0 = 0; r0 < rows; r0 += n) {
    const k = Math.min(n, rows - r0);
    const temps: GPUBuffer[] = [];
    const views = inputs.map((r) => {
      const words = span(r, k);
      const buf = rt.pool.acquire(Math.max(4, words * 4), `${op} chunk in`);
      temps.push(buf);
      if (words > 0) rt.copy(r.view.buffer, (r.view.offset + r0 * r.rowStride) * 4, buf, 0, words * 4);
      return {
        buffer: buf,
        offset: 0,
        shape: [k, ...r.rest],
        strides: [r.rowStride, ...r.restStrides],
        dtype: r.view.dtype,
      } satisfies GpuView;
    });
    const outs = outputs.map((o) => {
      const words = o.rowWords > 0 ? k * o.rowWords : (o.words ?? 0);
      const buf = rt.pool.acquire(Math.max(4, words * 4), `${op} chunk out`);
      temps.push(buf);
      return buf;
    });
    run(views, outs, k, r0);
    outputs.forEach((o, i) => {
      if (o.rowWords > 0) rt.copy(outs[i], 0, o.buffer, r0 * o.rowWords * 4, k * o.rowWords * 4);
      else if (r0 === 0 || !o.fold) rt.copy(outs[i], 0, o.buffer, 0, (o.words ?? 0) * 4);
      else o.fold(o.buffer, outs[i], o.words ?? 0);
    });
    for (const t of temps) rt.pool.release(t);
  }
}

const FOLD_OPS = { add: 0, max: 1, min: 2, mul: 3, scale: 4 } as const;
/** How `foldInto` combines: acc op part, or acc · scalar for `scale`. */
export type FoldOp = keyof typeof FOLD_OPS;

const FOLD_KERNEL: Kernel = {
  key: "fold",
  code: () => `${PARAMS_WGSL}
@group(0) @binding(1) var<storage, read_write> acc: array<f32>;
@group(0) @binding(2) var<storage, read> part: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * pu(2u);
  if (i >= pu(0u)) { return; }
  let op = pu(1u);
  let a = acc[i];
  if (op == 0u) { acc[i] = a + part[i]; }
  else if (op == 1u) { acc[i] = max(a, part[i]); }
  else if (op == 2u) { acc[i] = min(a, part[i]); }
  else if (op == 3u) { acc[i] = a * part[i]; }
  else { acc[i] = a * pf(3u); }
}
`,
};

/** Records acc[i] = acc[i] op part[i] for i < words (float32), or acc[i] *= scale for `scale`. */
export function foldInto(
  rt: GpuRuntime,
  op: FoldOp,
  acc: GPUBuffer,
  part: GPUBuffer | null,
  words: number,
  scale = 1,
): void {
  if (words === 0) return;
  const { groups, pitch } = grid(rt, words);
  const p = new ParamWriter().u(words).u(FOLD_OPS[op]).u(pitch).f(scale);
  rt.dispatch(FOLD_KERNEL, p.done(), [{ buffer: acc }, part ? { buffer: part } : dummyBinding(rt)], groups);
}
