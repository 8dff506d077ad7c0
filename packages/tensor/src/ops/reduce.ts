// Reductions over dims with keepDim, PyTorch's semantics (var with Bessel's correction by default).

import { noGrad } from "../autograd.js";
import type { ReduceOp } from "../backend/backend.js";
import { fmtShape } from "../backend/backend.js";
import type { Tensor } from "../tensor.js";
import { bufferOf, empty, isFloat, normDim, record } from "./core.js";
import { castRaw, exp, log, mul, sub, where } from "./elementwise.js";
import { reshape } from "./shape.js";

/** Returns the sorted, normalised dims of a reduction (all dims when dim is undefined). */
export function reduceDims(op: string, x: Tensor, dim?: number | number[]): number[] {
  if (dim === undefined) return [...Array(x.ndim).keys()];
  const dims = (Array.isArray(dim) ? dim : [dim]).map((d) => normDim(op, d, x.ndim, x.shape));
  return [...new Set(dims)].sort((a, b) => a - b);
}

/** Runs a reduction kernel without recording; returns the keepDim-shaped result. */
export function reduceRaw(op: ReduceOp, x: Tensor, axes: number[]): Tensor {
  const keepShape = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  if ((op === "max" || op === "min") && axes.some((a) => x.shape[a] === 0)) {
    throw new Error(`${op}: cannot reduce over an empty dim of shape ${fmtShape(x.shape)}`);
  }
  const dtype = op === "mean" && !isFloat(x.dtype) ? "float32" : x.dtype === "bool" ? "int32" : x.dtype;
  const src = dtype === x.dtype ? x : castRaw(x, dtype);
  const out = empty(keepShape, dtype, x.backend);
  x.backend.reduce(op, src._view(op), axes, bufferOf(out));
  if (src !== x) src.dispose();
  return out;
}

function finish(out: Tensor, x: Tensor, axes: number[], keepDim: boolean): Tensor {
  if (keepDim) return out;
  const shape = x.shape.filter((_, i) => !axes.includes(i));
  const r = reshape(out, shape);
  out.dispose();
  return r;
}

function reduction(op: ReduceOp, x: Tensor, dim: number | number[] | undefined, keepDim: boolean): Tensor {
  const axes = reduceDims(op, x, dim);
  const raw = reduceRaw(op, x, axes);
  const recorded = isFloat(raw.dtype)
    ? record(op, raw, [x], op === "max" || op === "min" ? [x, raw] : [], { shape: x.shape, axes })
    : raw;
  return finish(recorded, x, axes, keepDim);
}

/** Returns the sum over dim (all dims when omitted). */
export function sum(x: Tensor, dim?: number | number[], keepDim = false): Tensor {
  return reduction("sum", x, dim, keepDim);
}
/** Returns the mean over dim (all dims when omitted). */
export function mean(x: Tensor, dim?: number | number[], keepDim = false): Tensor {
  return reduction("mean", x, dim, keepDim);
}
/** Returns the maximum over dim; ties share the gradient equally (like torch.amax). */
export function max(x: Tensor, dim?: number | number[], keepDim = false): Tensor {
  return reduction("max", x, dim, keepDim);
}
/** Returns the minimum over dim; ties share the gradient equally (like torch.amin). */
export function min(x: Tensor, dim?: number | number[], keepDim = false): Tensor {
  return reduction("min", x, dim, keepDim);
}

/** Returns int32 indices of the first maximum along dim (of the flattened tensor when omitted). */
export function argmax(x: Tensor, dim?: number, keepDim = false): Tensor {
  return argReduce("argmax", x, dim, keepDim);
}
/** Returns int32 indices of the first minimum along dim (of the flattened tensor when omitted). */
export function argmin(x: Tensor, dim?: number, keepDim = false): Tensor {
  return argReduce("argmin", x, dim, keepDim);
}

function argReduce(op: "argmax" | "argmin", x: Tensor, dim: number | undefined, keepDim: boolean): Tensor {
  if (dim === undefined) {
    const flat = reshape(x, [x.size]);
    const r = argReduce(op, flat, 0, false);
    flat.dispose();
    return r;
  }
  const axis = normDim(op, dim, x.ndim, x.shape);
  if (x.shape[axis] === 0) throw new Error(`${op}: dim ${dim} of shape ${fmtShape(x.shape)} is empty`);
  const out = empty(
    x.shape.map((d, i) => (i === axis ? 1 : d)),
    "int32",
    x.backend,
  );
  x.backend.argReduce(op, x._view(op), axis, bufferOf(out));
  return finish(out, x, [axis], keepDim);
}

/** Returns the variance over dim with the given correction (1 = unbiased, PyTorch's default). */
export function variance(x: Tensor, dim?: number | number[], keepDim = false, correction = 1): Tensor {
  const axes = reduceDims("var", x, dim);
  let n = 1;
  for (const a of axes) n *= x.shape[a];
  const m = mean(x, axes, true);
  const d = sub(x, m);
  const sq = mul(d, d);
  const s = sum(sq, axes, keepDim);
  const out = mul(s, 1 / Math.max(n - correction, 0));
  for (const t of [m, d, sq, s]) t.dispose();
  return out;
}

/** Returns log Σ exp(x) over dim, shifted by the (detached) max for stability. */
export function logSumExp(x: Tensor, dim?: number | number[], keepDim = false): Tensor {
  const axes = reduceDims("logSumExp", x, dim);
  // rows that are all −∞ get a zero shift so the result is −∞, not NaN
  const safe = noGrad(() => {
    const raw = reduceRaw("max", x, axes);
    const inf = raw.eq(Number.NEGATIVE_INFINITY);
    const r = where(inf, 0, raw);
    raw.dispose();
    inf.dispose();
    return r;
  });
  const shifted = sub(x, safe);
  const e = exp(shifted);
  const s = sum(e, axes, true);
  const l = log(s);
  const out = l.add(safe);
  for (const t of [shifted, e, s, l, safe]) t.dispose();
  return finish(out, x, axes, keepDim);
}
