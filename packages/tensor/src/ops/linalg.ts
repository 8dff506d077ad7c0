// matmul with NumPy semantics: 1-D operands are promoted and squeezed back, batch dims broadcast,
// transposed operands passed to the backend as strided views (read in place).
import { fmtShape, matrixLayout } from "../backend/backend.js";
import type { Tensor } from "../tensor.js";
import { broadcastShapes, bufferOf, empty, isFloat, record, sameBackend } from "./core.js";
import { contiguous, reshape, squeeze, unsqueeze } from "./shape.js";

/** Runs the matmul kernel on ≥2-D operands without recording; returns [...batch, M, N]. */
export function matmulRaw(a: Tensor, b: Tensor): Tensor {
  const backend = sameBackend("matmul", a, b);
  const M = a.shape[a.ndim - 2];
  const K = a.shape[a.ndim - 1];
  const K2 = b.shape[b.ndim - 2];
  const N = b.shape[b.ndim - 1];
  if (K !== K2) {
    throw new Error(
      `matmul: shapes ${fmtShape(a.shape)} and ${fmtShape(b.shape)} do not align (${K} vs ${K2})`,
    );
  }
  if (a.dtype !== b.dtype || !isFloat(a.dtype)) {
    throw new Error(
      `matmul: expected two float tensors of one dtype, got ${a.dtype} ${fmtShape(a.shape)} and ${b.dtype} ${fmtShape(b.shape)}`,
    );
  }
  const batch = broadcastShapes("matmul", a.shape.slice(0, -2), b.shape.slice(0, -2));
  const operand = (t: Tensor, rows: number, cols: number) => {
    const lead = batch.length - (t.ndim - 2);
    const shape = [...batch, rows, cols];
    const strides = new Array<number>(shape.length).fill(0);
    for (let i = 0; i < t.ndim - 2; i++) strides[lead + i] = t.shape[i] === 1 ? 0 : t.strides[i];
    strides[shape.length - 2] = t.strides[t.ndim - 2];
    strides[shape.length - 1] = t.strides[t.ndim - 1];
    const v = t._view("matmul");
    return { buffer: v.buffer, shape, strides, offset: v.offset };
  };
  let ca = a;
  let cb = b;
  if (!matrixLayout(operand(a, M, K))) ca = contiguous(a, true);
  if (!matrixLayout(operand(b, K, N))) cb = contiguous(b, true);
  const out = empty([...batch, M, N], a.dtype, backend);
  if (out.size > 0) {
    if (K === 0)
      backend.fill({ buffer: bufferOf(out), shape: out.shape, strides: out.strides, offset: 0 }, 0);
    else backend.matmul(operand(ca, M, K), operand(cb, K, N), bufferOf(out));
  }
  if (ca !== a) ca.dispose();
  if (cb !== b) cb.dispose();
  return out;
}

/** Returns the matrix product of a and b (batched, with broadcast batch dims; 1-D operands as in NumPy). */
export function matmul(a: Tensor, b: Tensor): Tensor {
  if (a.ndim === 0 || b.ndim === 0)
    throw new Error(
      `matmul: operands must be at least 1-D, got ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`,
    );
  if (a.ndim === 1 || b.ndim === 1) {
    const a2 = a.ndim === 1 ? unsqueeze(a, 0) : a;
    const b2 = b.ndim === 1 ? unsqueeze(b, 1) : b;
    let out = matmul(a2, b2);
    if (a.ndim === 1) {
      const s = squeeze(out, -2);
      out.dispose();
      out = s;
    }
    if (b.ndim === 1) {
      const s = squeeze(out, -1);
      out.dispose();
      out = s;
    }
    if (a2 !== a) a2.dispose();
    if (b2 !== b) b2.dispose();
    return out;
  }
  const out = matmulRaw(a, b);
  return record("matmul", out, [a, b], [a, b], { aShape: a.shape, bShape: b.shape });
}

/** Returns x @ weightᵀ + bias (PyTorch's F.linear; weight is [out, in]). */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  const wt = weight.transpose(0, 1);
  if (x.ndim > 2) {
    const flat = reshape(x, [-1, x.shape[x.ndim - 1]]);
    const y = matmul(flat, wt);
    const yb = bias ? y.add(bias) : y;
    const out = reshape(yb, [...x.shape.slice(0, -1), weight.shape[0]]);
    for (const t of [flat, y, yb, wt]) if (!t.isDisposed) t.dispose();
    return out;
  }
  const y = matmul(x, wt);
  wt.dispose();
  if (!bias) return y;
  const out = y.add(bias);
  y.dispose();
  return out;
}
