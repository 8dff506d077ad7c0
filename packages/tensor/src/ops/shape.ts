// Shape ops. Most are views (new shape/strides over the same storage); cat and non-viewable reshapes copy.
import { contiguousStrides, fmtShape, numel } from "../backend/backend.js";
import type { Tensor } from "../tensor.js";
import { bufferOf, empty, isDense, normDim, record, sameBackend } from "./core.js";

function resolveShape(op: string, x: Tensor, shape: number[]): number[] {
  const out = shape.slice();
  const free = out.indexOf(-1);
  if (free !== out.lastIndexOf(-1)) throw new Error(`${op}: only one dim may be -1 in ${fmtShape(shape)}`);
  if (free >= 0) {
    const rest = numel(out.filter((_, i) => i !== free));
    if (rest === 0 || x.size % rest !== 0)
      throw new Error(`${op}: cannot reshape ${fmtShape(x.shape)} into ${fmtShape(shape)}`);
    out[free] = x.size / rest;
  }
  if (numel(out) !== x.size || out.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new Error(
      `${op}: cannot reshape ${fmtShape(x.shape)} (${x.size} elements) into ${fmtShape(shape)}`,
    );
  }
  return out;
}

/** Returns x's data in a fresh row-major buffer (a view of x when it already is, unless force). */
export function contiguous(x: Tensor, force = false): Tensor {
  if (!force && isDense(x)) return reshape(x, x.shape);
  const out = empty(x.shape, x.dtype, x.backend);
  x.backend.copy(x._view("contiguous"), {
    buffer: bufferOf(out),
    shape: x.shape,
    strides: out.strides,
    offset: 0,
  });
  return record("contiguous", out, [x]);
}

/** Returns x with a new shape, as a view when the layout allows and a copy otherwise. */
export function reshape(x: Tensor, shape: number[]): Tensor {
  const s = resolveShape("reshape", x, shape);
  if (isDense(x))
    return record("reshape", x._alias(s, contiguousStrides(s), x.offset), [x], [], { shape: x.shape });
  const c = contiguous(x, true);
  const out = reshape(c, s);
  c.dispose();
  return out;
}

/** Returns a view of x with a new shape; throws when x is not contiguous. */
export function view(x: Tensor, shape: number[]): Tensor {
  if (!isDense(x)) throw new Error(`view: tensor ${fmtShape(x.shape)} is not contiguous; use reshape()`);
  return reshape(x, shape);
}

/** Returns a view with dims reordered. */
export function permute(x: Tensor, dims: number[]): Tensor {
  if (dims.length !== x.ndim)
    throw new Error(`permute: ${dims.length} dims given for shape ${fmtShape(x.shape)}`);
  const d = dims.map((v) => normDim("permute", v, x.ndim, x.shape));
  if (new Set(d).size !== d.length) throw new Error(`permute: dims [${dims}] repeat a dim`);
  const out = x._alias(
    d.map((i) => x.shape[i]),
    d.map((i) => x.strides[i]),
    x.offset,
  );
  return record("permute", out, [x], [], { dims: d });
}

/** Returns a view with dims d0 and d1 swapped. */
export function transpose(x: Tensor, d0: number, d1: number): Tensor {
  const a = normDim("transpose", d0, x.ndim, x.shape);
  const b = normDim("transpose", d1, x.ndim, x.shape);
  const dims = [...Array(x.ndim).keys()];
  dims[a] = b;
  dims[b] = a;
  return permute(x, dims);
}

/** Returns a broadcast view of x with the given shape (-1 keeps a dim). */
export function expand(x: Tensor, shape: number[]): Tensor {
  if (shape.length < x.ndim)
    throw new Error(`expand: shape ${fmtShape(shape)} has fewer dims than ${fmtShape(x.shape)}`);
  const lead = shape.length - x.ndim;
  const strides = new Array<number>(shape.length).fill(0);
  const out = shape.slice();
  for (let i = 0; i < x.ndim; i++) {
    const want = shape[lead + i] === -1 ? x.shape[i] : shape[lead + i];
    if (want !== x.shape[i] && x.shape[i] !== 1) {
      throw new Error(
        `expand: cannot expand ${fmtShape(x.shape)} to ${fmtShape(shape)} (dim ${lead + i}: ${x.shape[i]} vs ${want})`,
      );
    }
    out[lead + i] = want;
    strides[lead + i] = x.shape[i] === 1 && want !== 1 ? 0 : x.strides[i];
  }
  return record("expand", x._alias(out, strides, x.offset), [x], [], { shape: x.shape });
}

function restride(x: Tensor, shape: number[], strides: number[]): Tensor {
  return record("reshape", x._alias(shape, strides, x.offset), [x], [], { shape: x.shape });
}

/** Returns x without size-1 dims (only `dim` when given). */
export function squeeze(x: Tensor, dim?: number): Tensor {
  const d = dim === undefined ? -1 : normDim("squeeze", dim, x.ndim, x.shape);
  const keep = x.shape.map((s, i) => !(s === 1 && (d === -1 || d === i)));
  return restride(
    x,
    x.shape.filter((_, i) => keep[i]),
    x.strides.filter((_, i) => keep[i]),
  );
}

/** Returns x with a size-1 dim inserted at dim. */
export function unsqueeze(x: Tensor, dim: number): Tensor {
  const d = normDim("unsqueeze", dim, x.ndim + 1, x.shape);
  const shape = x.shape.slice();
  const strides = x.strides.slice();
  shape.splice(d, 0, 1);
  strides.splice(d, 0, d < x.ndim ? x.strides[d] * x.shape[d] : 1);
  return restride(x, shape, strides);
}

/** Returns x with dims startDim..endDim merged. */
export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  if (x.ndim === 0) return reshape(x, [1]);
  const s = normDim("flatten", startDim, x.ndim, x.shape);
  const e = normDim("flatten", endDim, x.ndim, x.shape);
  const shape = [...x.shape.slice(0, s), numel(x.shape.slice(s, e + 1)), ...x.shape.slice(e + 1)];
  return reshape(x, shape);
}

/** Returns the view of `length` elements of dim starting at `start`. */
export function narrow(x: Tensor, dim: number, start: number, length: number): Tensor {
  const d = normDim("narrow", dim, x.ndim, x.shape);
  if (start < 0) start += x.shape[d];
  if (
    !Number.isInteger(start) ||
    !Number.isInteger(length) ||
    start < 0 ||
    length < 0 ||
    start + length > x.shape[d]
  ) {
    throw new Error(
      `narrow: range [${start}, ${start + length}) is outside dim ${dim} of shape ${fmtShape(x.shape)}`,
    );
  }
  const shape = x.shape.slice();
  shape[d] = length;
  const out = x._alias(shape, x.strides.slice(), x.offset + start * x.strides[d]);
  return record("narrow", out, [x], [], { dim: d, start, shape: x.shape });
}

/** Returns pieces of x along dim: of `size` each (the last may be smaller) or of the listed sizes. */
export function split(x: Tensor, size: number | number[], dim = 0): Tensor[] {
  const d = normDim("split", dim, x.ndim, x.shape);
  const n = x.shape[d];
  let sizes: number[];
  if (Array.isArray(size)) {
    if (size.reduce((a, b) => a + b, 0) !== n)
      throw new Error(`split: sizes [${size}] do not sum to dim ${dim} (${n}) of ${fmtShape(x.shape)}`);
    sizes = size;
  } else {
    if (!(size > 0)) throw new Error(`split: size must be positive, got ${size}`);
    sizes = [];
    for (let s = 0; s < n; s += size) sizes.push(Math.min(size, n - s));
  }
  const out: Tensor[] = [];
  let start = 0;
  for (const s of sizes) {
    out.push(narrow(x, d, start, s));
    start += s;
  }
  return out;
}

/** Returns `chunks` pieces along dim (the last may be smaller), like torch.chunk. */
export function chunk(x: Tensor, chunks: number, dim = 0): Tensor[] {
  const d = normDim("chunk", dim, x.ndim, x.shape);
  return split(x, Math.max(1, Math.ceil(x.shape[d] / chunks)), d);
}

/** Returns the tensors joined along an existing dim. */
export function cat(tensors: Tensor[], dim = 0): Tensor {
  if (tensors.length === 0) throw new Error("cat: expected at least one tensor");
  const backend = sameBackend("cat", ...tensors);
  const first = tensors[0];
  const d = normDim("cat", dim, first.ndim, first.shape);
  const dtype = first.dtype;
  for (const t of tensors) {
    if (t.ndim !== first.ndim || t.shape.some((s, i) => i !== d && s !== first.shape[i])) {
      throw new Error(
        `cat: shapes ${tensors.map((x) => fmtShape(x.shape)).join(", ")} do not match outside dim ${dim}`,
      );
    }
    if (t.dtype !== dtype) throw new Error(`cat: dtypes differ (${dtype} and ${t.dtype})`);
  }
  const shape = first.shape.slice();
  shape[d] = tensors.reduce((a, t) => a + t.shape[d], 0);
  const out = empty(shape, dtype, backend);
  let start = 0;
  for (const t of tensors) {
    if (t.size > 0) {
      backend.copy(t._view("cat"), {
        buffer: bufferOf(out),
        shape: t.shape,
        strides: out.strides,
        offset: start * out.strides[d],
      });
    }
    start += t.shape[d];
  }
  return record("cat", out, tensors, [], { dim: d, sizes: tensors.map((t) => t.shape[d]) });
}

/** Returns the tensors stacked along a new dim. */
export function stack(tensors: Tensor[], dim = 0): Tensor {
  if (tensors.length === 0) throw new Error("stack: expected at least one tensor");
  const d = normDim("stack", dim, tensors[0].ndim + 1, tensors[0].shape);
  const parts = tensors.map((t) => unsqueeze(t, d));
  const out = cat(parts, d);
  for (const p of parts) p.dispose();
  return out;
}
