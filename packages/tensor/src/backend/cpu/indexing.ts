// Gather/scatter-style kernels of the reference backend, with bounds checks that name the op.
import type { TypedArray } from "../backend.js";
import { forEachRow } from "./strided.js";

/** A strided operand of the reference backend. */
export interface CpuView {
  data: TypedArray;
  shape: readonly number[];
  strides: readonly number[];
  offset: number;
}

function checkIndex(op: string, idx: number, size: number, dim: number): void {
  if (idx < 0 || idx >= size)
    throw new RangeError(`${op}: index ${idx} is out of range for dim ${dim} of size ${size}`);
}

function indexStrides(rank: number, dim: number, stride: number): number[] {
  const s = new Array<number>(rank).fill(0);
  s[dim] = stride;
  return s;
}

/** out = x.indexSelect(dim, index) (out contiguous). */
export function indexSelectInto(x: CpuView, index: CpuView, dim: number, out: TypedArray): void {
  const n = index.shape[0] ?? 1;
  const I = index.data;
  const is0 = index.strides[0] ?? 0;
  const size = x.shape[dim];
  for (let i = 0; i < n; i++) checkIndex("indexSelect", I[index.offset + i * is0], size, dim);
  const shape = x.shape.slice();
  shape[dim] = n;
  const xs = x.strides.slice();
  const sdim = xs[dim];
  xs[dim] = 0;
  const os: number[] = [];
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    os[d] = s;
    s *= shape[d];
  }
  const X = x.data;
  forEachRow(
    shape,
    [xs, indexStrides(shape.length, dim, is0), os],
    [x.offset, index.offset, 0],
    (pos, m, st) => {
      let xp = pos[0];
      let ip = pos[1];
      let op = pos[2];
      for (let t = 0; t < m; t++, xp += st[0], ip += st[1], op += st[2]) out[op] = X[xp + I[ip] * sdim];
    },
  );
}

/** dst[.., index[i], ..] += src[.., i, ..] along dim (dst contiguous with dstShape). */
export function indexAddInto(
  dst: TypedArray,
  dstShape: readonly number[],
  index: CpuView,
  src: CpuView,
  dim: number,
): void {
  const n = index.shape[0] ?? 1;
  const I = index.data;
  const is0 = index.strides[0] ?? 0;
  const size = dstShape[dim];
  for (let i = 0; i < n; i++) checkIndex("indexAdd", I[index.offset + i * is0], size, dim);
  const ds: number[] = [];
  let s = 1;
  for (let d = dstShape.length - 1; d >= 0; d--) {
    ds[d] = s;
    s *= dstShape[d];
  }
  const sdim = ds[dim];
  ds[dim] = 0;
  const S = src.data;
  forEachRow(
    src.shape,
    [src.strides, indexStrides(src.shape.length, dim, is0), ds],
    [src.offset, index.offset, 0],
    (pos, m, st) => {
      let sp = pos[0];
      let ip = pos[1];
      let dp = pos[2];
      for (let t = 0; t < m; t++, sp += st[0], ip += st[1], dp += st[2]) dst[dp + I[ip] * sdim] += S[sp];
    },
  );
}

/** out[p] = x[p with p[dim] = index[p]] over index's shape. */
export function gatherInto(x: CpuView, index: CpuView, dim: number, out: TypedArray): void {
  const xs = x.strides.slice();
  const sd = xs[dim];
  const size = x.shape[dim];
  xs[dim] = 0;
  let o = 0;
  const X = x.data;
  const I = index.data;
  forEachRow(index.shape, [index.strides, xs], [index.offset, x.offset], (pos, n, st) => {
    let ip = pos[0];
    let xp = pos[1];
    for (let t = 0; t < n; t++, ip += st[0], xp += st[1]) {
      const k = I[ip];
      if (k < 0 || k >= size) checkIndex("gather", k, size, dim);
      out[o++] = X[xp + k * sd];
    }
  });
}

/** dst[p with p[dim] = index[p]] += src[p] over index's shape (dst contiguous with dstShape). */
export function scatterAddInto(
  dst: TypedArray,
  dstShape: readonly number[],
  index: CpuView,
  src: CpuView,
  dim: number,
): void {
  const ds = new Array<number>(dstShape.length);
  let s = 1;
  for (let d = dstShape.length - 1; d >= 0; d--) {
    ds[d] = s;
    s *= dstShape[d];
  }
  const sd = ds[dim];
  const size = dstShape[dim];
  ds[dim] = 0;
  const I = index.data;
  const S = src.data;
  const srcStrides = src.strides.slice(0, index.shape.length);
  forEachRow(index.shape, [index.strides, ds, srcStrides], [index.offset, 0, src.offset], (pos, n, st) => {
    let ip = pos[0];
    let dp = pos[1];
    let sp = pos[2];
    for (let t = 0; t < n; t++, ip += st[0], dp += st[1], sp += st[2]) {
      const k = I[ip];
      if (k < 0 || k >= size) checkIndex("scatterAdd", k, size, dim);
      dst[dp + k * sd] += S[sp];
    }
  });
}
