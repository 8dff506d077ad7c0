// Small host-built constant tensors (ranges, triangle masks) used by indexing and attention ops.
import type { Backend, DType } from "../backend/backend.js";
import { allocHost } from "../backend/backend.js";
import type { Tensor } from "../tensor.js";
import { bufferOf, empty } from "./core.js";

/** Returns [0, 1, …, n−1] on backend. */
export function arangeOn(backend: Backend, n: number, dtype: DType): Tensor {
  const host = allocHost(dtype, n);
  for (let i = 0; i < n; i++) host[i] = i;
  const t = empty([n], dtype, backend);
  backend.write(bufferOf(t), host);
  return t;
}

/** Returns a bool [rows, cols] mask: j − i ≤ diagonal (lower) or j − i ≥ diagonal (upper). */
export function triangleMask(
  backend: Backend,
  rows: number,
  cols: number,
  diagonal: number,
  lower: boolean,
): Tensor {
  const host = new Uint8Array(rows * cols);
  for (let i = 0; i < rows; i++)
    for (let j = 0; j < cols; j++)
      host[i * cols + j] = (lower ? j - i <= diagonal : j - i >= diagonal) ? 1 : 0;
  const t = empty([rows, cols], "bool", backend);
  backend.write(bufferOf(t), host);
  return t;
}
