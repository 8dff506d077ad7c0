/// <reference types="@webgpu/types" />

/** Element types as stored on the GPU: every element is one 32-bit word. */
export type GpuDtype = "float32" | "int32" | "bool";

/** WGSL-side dtype codes (see `loadWord` in the generated shaders). */
export const DTYPE_CODE: Record<GpuDtype, number> = { float32: 0, int32: 1, bool: 2 };

/** A strided view of a GPU buffer, in elements. */
export interface GpuView {
  buffer: GPUBuffer;
  offset: number;
  shape: readonly number[];
  strides: readonly number[];
  dtype: GpuDtype;
}

/** Returns row-major strides of `shape`. */
export function contiguousStrides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/** Returns the product of the dims. */
export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Returns true when `v` reads its elements in row-major order with no gaps. */
export function isContiguous(shape: readonly number[], strides: readonly number[]): boolean {
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i] !== 1 && strides[i] !== acc) return false;
    acc *= shape[i];
  }
  return true;
}

/** Drops size-1 dims and merges dims that are contiguous with each other (shared across views). */
export function coalesce(
  shape: readonly number[],
  stridesList: readonly (readonly number[])[],
): {
  shape: number[];
  strides: number[][];
} {
  const outShape: number[] = [];
  const outStrides: number[][] = stridesList.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const last = outShape.length - 1;
    if (last >= 0 && stridesList.every((st, k) => outStrides[k][last] === st[d] * shape[d])) {
      outShape[last] *= shape[d];
      for (let k = 0; k < stridesList.length; k++) outStrides[k][last] = stridesList[k][d];
    } else {
      outShape.push(shape[d]);
      for (let k = 0; k < stridesList.length; k++) outStrides[k].push(stridesList[k][d]);
    }
  }
  return { shape: outShape, strides: outStrides };
}
