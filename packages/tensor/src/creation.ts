// Creation functions: tensor(), zeros, ones, full, arange, eye, *Like, rand, randn, randint.
import type { Backend, DType, TypedArray } from "./backend/backend.js";
import { allocHost, fmtShape, numel } from "./backend/backend.js";
import { resolveBackend } from "./device.js";
import { bufferOf, empty } from "./ops/core.js";
import { type Generator, resolveGenerator } from "./random.js";
import type { NestedArray, Tensor } from "./tensor.js";

/** Options shared by the creation functions. */
export interface TensorOptions {
  dtype?: DType;
  /** "cpu", "webgpu" or a loaded backend name; the default device when omitted. */
  device?: string | Backend;
  requiresGrad?: boolean;
}

/** Options of the random creation functions. */
export interface RandomOptions extends TensorOptions {
  seed?: number;
  generator?: Generator;
}

function finish(t: Tensor, opts: TensorOptions): Tensor {
  if (opts.requiresGrad) t.requiresGrad = true;
  return t;
}

function fromHost(host: TypedArray, shape: number[], dtype: DType, opts: TensorOptions): Tensor {
  const backend = resolveBackend(opts.device);
  const t = empty(shape, dtype, backend);
  if (host.length > 0)
    backend.write(
      bufferOf(t),
      host.constructor === allocHost(dtype, 0).constructor ? host : convert(host, dtype),
    );
  return finish(t, opts);
}

function convert(src: ArrayLike<number>, dtype: DType): TypedArray {
  const out = allocHost(dtype, src.length);
  if (dtype === "bool") for (let i = 0; i < src.length; i++) out[i] = src[i] ? 1 : 0;
  else for (let i = 0; i < src.length; i++) out[i] = src[i];
  return out;
}

function inferShape(data: NestedArray): number[] {
  const shape: number[] = [];
  let cur: NestedArray = data;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    if (cur.length === 0) break;
    cur = cur[0];
  }
  return shape;
}

function flattenNested(data: NestedArray, shape: number[], out: number[], dim: number, path: string): void {
  if (dim === shape.length) {
    if (Array.isArray(data)) throw new Error(`tensor: ragged nested array at ${path} (expected a number)`);
    if (typeof data !== "number" && typeof data !== "boolean")
      throw new Error(`tensor: element at ${path} is ${typeof data}, expected a number or boolean`);
    out.push(typeof data === "boolean" ? (data ? 1 : 0) : data);
    return;
  }
  if (!Array.isArray(data) || data.length !== shape[dim]) {
    throw new Error(`tensor: ragged nested array at ${path} (expected ${shape[dim]} elements)`);
  }
  for (let i = 0; i < data.length; i++) flattenNested(data[i], shape, out, dim + 1, `${path}[${i}]`);
}

/** Returns a tensor holding the data (nested arrays, a typed array, or a number); dtype is inferred unless given. */
export function tensor(
  data: NestedArray | TypedArray | number[],
  opts: TensorOptions & { shape?: number[] } = {},
): Tensor {
  if (ArrayBuffer.isView(data)) {
    const typed = data as TypedArray;
    const inferred: DType =
      typed instanceof Float64Array
        ? "float64"
        : typed instanceof Int32Array
          ? "int32"
          : typed instanceof Uint8Array
            ? "bool"
            : "float32";
    const dtype = opts.dtype ?? inferred;
    const shape = opts.shape ?? [typed.length];
    if (numel(shape) !== typed.length)
      throw new Error(`tensor: shape ${fmtShape(shape)} does not hold ${typed.length} elements`);
    return fromHost(typed, shape, dtype, opts);
  }
  const shape = inferShape(data as NestedArray);
  const flat: number[] = [];
  flattenNested(data as NestedArray, shape, flat, 0, "data");
  let first: unknown = data;
  while (Array.isArray(first)) first = first[0];
  const dtype = opts.dtype ?? (typeof first === "boolean" ? "bool" : "float32");
  const finalShape = opts.shape ?? shape;
  if (numel(finalShape) !== flat.length)
    throw new Error(`tensor: shape ${fmtShape(finalShape)} does not hold ${flat.length} elements`);
  return fromHost(convert(flat, dtype), finalShape, dtype, opts);
}

/** Returns a tensor of shape filled with value. */
export function full(shape: number[], value: number, opts: TensorOptions = {}): Tensor {
  const backend = resolveBackend(opts.device);
  const t = empty(shape, opts.dtype ?? "float32", backend);
  if (t.size > 0) backend.fill({ buffer: bufferOf(t), shape: t.shape, strides: t.strides, offset: 0 }, value);
  return finish(t, opts);
}
/** Returns a tensor of zeros. */
export function zeros(shape: number[], opts: TensorOptions = {}): Tensor {
  return full(shape, 0, opts);
}
/** Returns a tensor of ones. */
export function ones(shape: number[], opts: TensorOptions = {}): Tensor {
  return full(shape, 1, opts);
}
/** Returns zeros with x's shape, dtype and device. */
export function zerosLike(x: Tensor, opts: TensorOptions = {}): Tensor {
  return full(x.shape, 0, { dtype: x.dtype, device: x.backend, ...opts });
}
/** Returns ones with x's shape, dtype and device. */
export function onesLike(x: Tensor, opts: TensorOptions = {}): Tensor {
  return full(x.shape, 1, { dtype: x.dtype, device: x.backend, ...opts });
}

/** Returns [start, start+step, …) below end (arange(n) counts 0..n−1); int32 when all arguments are integers. */
export function arange(start: number, end?: number, step = 1, opts: TensorOptions = {}): Tensor {
  if (end === undefined) {
    end = start;
    start = 0;
  }
  if (step === 0) throw new Error("arange: step must not be 0");
  const n = Math.max(0, Math.ceil((end - start) / step));
  const dtype = opts.dtype ?? ([start, end, step].every(Number.isInteger) ? "int32" : "float32");
  const host = allocHost(dtype, n);
  for (let i = 0; i < n; i++) host[i] = start + i * step;
  return fromHost(host, [n], dtype, opts);
}

/** Returns the n×m identity matrix. */
export function eye(n: number, m = n, opts: TensorOptions = {}): Tensor {
  const dtype = opts.dtype ?? "float32";
  const host = allocHost(dtype, n * m);
  for (let i = 0; i < Math.min(n, m); i++) host[i * m + i] = 1;
  return fromHost(host, [n, m], dtype, opts);
}

/** Returns uniform samples in [0, 1). */
export function rand(shape: number[], opts: RandomOptions = {}): Tensor {
  const gen = resolveGenerator(opts.seed, opts.generator);
  const dtype = opts.dtype ?? "float32";
  const host = allocHost(dtype, numel(shape));
  for (let i = 0; i < host.length; i++) host[i] = gen.random();
  return fromHost(host, shape, dtype, opts);
}

/** Returns standard normal samples. */
export function randn(shape: number[], opts: RandomOptions = {}): Tensor {
  const gen = resolveGenerator(opts.seed, opts.generator);
  const dtype = opts.dtype ?? "float32";
  const host = allocHost(dtype, numel(shape));
  for (let i = 0; i < host.length; i++) host[i] = gen.normal();
  return fromHost(host, shape, dtype, opts);
}

/** Returns int32 samples uniform in [low, high). */
export function randint(low: number, high: number, shape: number[], opts: RandomOptions = {}): Tensor {
  if (!(high > low)) throw new Error(`randint: empty range [${low}, ${high})`);
  const gen = resolveGenerator(opts.seed, opts.generator);
  const dtype = opts.dtype ?? "int32";
  const host = allocHost(dtype, numel(shape));
  for (let i = 0; i < host.length; i++) host[i] = gen.int(low, high);
  return fromHost(host, shape, dtype, opts);
}
