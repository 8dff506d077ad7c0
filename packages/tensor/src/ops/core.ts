// What every op needs: output allocation, device and liveness checks, broadcasting, and recording
// the autograd node.

import { isGradEnabled, Node } from "../autograd.js";
import type { Backend, BufferHandle, DType, View } from "../backend/backend.js";
import { contiguousStrides, fmtShape, isContiguous, numel } from "../backend/backend.js";
import { Storage } from "../memory.js";
import { Tensor } from "../tensor.js";

/** Returns a new tensor of shape/dtype on backend with uninitialised contents. */
export function empty(shape: readonly number[], dtype: DType, backend: Backend): Tensor {
  if (dtype === "float64" && !backend.supportsFloat64) {
    throw new Error(`float64 is not supported on backend "${backend.name}" (shape ${fmtShape(shape)})`);
  }
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0)
      throw new Error(`invalid shape ${fmtShape(shape)}: dims must be non-negative integers`);
  }
  const buffer = backend.allocate(numel(shape), dtype);
  return new Tensor(new Storage(backend, buffer), shape.slice(), null, 0, dtype);
}

/** Returns the output buffer of a freshly allocated tensor. */
export function bufferOf(t: Tensor): BufferHandle {
  return t._view("op").buffer;
}

/** Checks that all tensors are alive and on one backend; returns that backend. */
export function sameBackend(op: string, ...ts: Tensor[]): Backend {
  const b = ts[0].backend;
  for (const t of ts) {
    t._view(op);
    if (t.backend !== b) {
      throw new Error(
        `${op}: tensors are on different devices (${ts.map((x) => `${fmtShape(x.shape)} on ${x.backend.name}`).join(", ")})`,
      );
    }
  }
  return b;
}

/** Returns whether the tensor's elements sit row-major without gaps from its offset. */
export function isDense(t: Tensor): boolean {
  return isContiguous(t);
}

/** Returns the NumPy broadcast of two shapes or throws naming the op. */
export function broadcastShapes(op: string, a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new Error(
        `${op}: shapes ${fmtShape(a)} and ${fmtShape(b)} cannot be broadcast (dim ${i}: ${da} vs ${db})`,
      );
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Returns t's backend view broadcast to shape (stride 0 on broadcast dims). */
export function broadcastView(t: Tensor, shape: readonly number[], op: string): View {
  const v = t._view(op);
  const n = shape.length;
  const strides = new Array<number>(n).fill(0);
  for (let i = 0; i < t.shape.length; i++) {
    const d = n - t.shape.length + i;
    strides[d] = t.shape[i] === 1 && shape[d] !== 1 ? 0 : t.strides[i];
  }
  return { buffer: v.buffer, shape, strides, offset: v.offset };
}

/** Returns the promoted dtype of a binary op's operands. */
export function promote(a: DType, b: DType): DType {
  const rank: Record<DType, number> = { bool: 0, int32: 1, float32: 2, float64: 3 };
  return rank[a] >= rank[b] ? a : b;
}

/** Returns whether a dtype is floating point. */
export function isFloat(dtype: DType): boolean {
  return dtype === "float32" || dtype === "float64";
}

/** Normalises a possibly negative dim against ndim, throwing naming the op. */
export function normDim(op: string, dim: number, ndim: number, shape: readonly number[]): number {
  const d = dim < 0 ? dim + ndim : dim;
  if (!Number.isInteger(d) || d < 0 || d >= Math.max(ndim, 1)) {
    throw new Error(`${op}: dim ${dim} is out of range for shape ${fmtShape(shape)}`);
  }
  return d;
}

/**
 * Records an op for autograd when grad mode is on and some input requires a gradient: the node keeps
 * internal aliases of `saved` (released after backward) and `attrs` for the rule in gradients.ts.
 */
export function record(
  op: string,
  out: Tensor,
  inputs: Tensor[],
  saved: Tensor[] = [],
  attrs: Record<string, unknown> = {},
): Tensor {
  if (!isGradEnabled()) return out;
  let any = false;
  for (const t of inputs) if (t.requiresGrad) any = true;
  if (!any) return out;
  const node = new Node(
    op,
    inputs.map((t) => t._gradNode()),
    saved.map((t) => t._alias(t.shape, t.strides, t.offset, true)),
    attrs,
  );
  out._node = node;
  out._requiresGrad = true;
  return out;
}

/** Returns row-major strides (re-exported for ops). */
export { contiguousStrides, numel };
