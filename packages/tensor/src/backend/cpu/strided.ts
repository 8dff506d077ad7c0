// Strided iteration shared by the CPU kernels: merge dims that are laid out back to back in every
// operand, then walk the output row by row, so the innermost loop is long and branch-free.

/** Returns the shape and per-operand strides with size-1 dims dropped and mergeable dims merged. */
export function coalesce(
  shape: readonly number[],
  stridesList: readonly (readonly number[])[],
): { shape: number[]; strides: number[][] } {
  const outShape: number[] = [];
  const outStrides: number[][] = stridesList.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const last = outShape.length - 1;
    let merge = last >= 0;
    if (merge) {
      for (let k = 0; k < stridesList.length; k++) {
        if (outStrides[k][last] !== stridesList[k][d] * shape[d]) {
          merge = false;
          break;
        }
      }
    }
    if (merge) {
      outShape[last] *= shape[d];
      for (let k = 0; k < stridesList.length; k++) outStrides[k][last] = stridesList[k][d];
    } else {
      outShape.push(shape[d]);
      for (let k = 0; k < stridesList.length; k++) outStrides[k].push(stridesList[k][d]);
    }
  }
  if (outShape.length === 0) {
    outShape.push(1);
    for (const s of outStrides) s.push(0);
  }
  return { shape: outShape, strides: outStrides };
}

/**
 * Calls `row(pos, n, innerStrides)` once per row of the (coalesced) shape: `pos[k]` is operand k's
 * element offset at the row start. `pos` is reused between calls (no per-row allocation).
 */
export function forEachRow(
  shape: readonly number[],
  stridesList: readonly (readonly number[])[],
  offsets: readonly number[],
  row: (pos: Float64Array, n: number, inner: Float64Array) => void,
): void {
  const c = coalesce(shape, stridesList);
  if (shape.some((d) => d === 0)) return;
  const nd = c.shape.length;
  const k = stridesList.length;
  const n = c.shape[nd - 1];
  const pos = Float64Array.from(offsets);
  const inner = new Float64Array(k);
  for (let j = 0; j < k; j++) inner[j] = c.strides[j][nd - 1];
  let rows = 1;
  for (let d = 0; d < nd - 1; d++) rows *= c.shape[d];
  const counters = new Int32Array(Math.max(nd - 1, 1));
  for (let r = 0; r < rows; r++) {
    row(pos, n, inner);
    for (let d = nd - 2; d >= 0; d--) {
      counters[d]++;
      for (let j = 0; j < k; j++) pos[j] += c.strides[j][d];
      if (counters[d] < c.shape[d]) break;
      for (let j = 0; j < k; j++) pos[j] -= c.strides[j][d] * c.shape[d];
      counters[d] = 0;
    }
  }
}
