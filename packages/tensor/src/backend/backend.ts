/**
 * The Backend interface: what a device implements so that every Tensor op runs on it.
 *
 * A backend owns flat buffers of one dtype. The frontend (Tensor, autograd) keeps shapes, strides
 * and offsets, so views (reshape, transpose, expand, narrow, permute) never reach a backend: a kernel
 * receives each input as a `View` (buffer + shape + strides + offset, strides may be 0 for broadcast
 * dims) and writes a fresh contiguous output buffer that the frontend allocated with the output shape.
 *
 * Everything except `read` is enqueued: a backend may run it later (WebGPU) or at once (CPU), but the
 * frontend never waits. `read` is the only synchronisation point.
 */

/** Element types a tensor can hold. `bool` is stored as one byte per element (0 or 1). */
export type DType = "float32" | "float64" | "int32" | "bool";

/** Devices a tensor can live on. */
export type DeviceName = "cpu" | "webgpu";

/** The typed array that holds a dtype on the host. */
export type TypedArray = Float32Array | Float64Array | Int32Array | Uint8Array;

/** A backend-owned flat buffer of `size` elements of `dtype`. Backends extend it with their own fields. */
export interface BufferHandle {
  readonly dtype: DType;
  readonly size: number;
}

/** A strided window onto a buffer: element (i0..in) lives at offset + Σ i_k·strides[k]. */
export interface View {
  readonly buffer: BufferHandle;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
}

/** Elementwise ops of one input. `param` carries scalars: affine [scale, shift], clamp [lo, hi], powScalar [p], leakyRelu [slope]. */
export type UnaryOp =
  | "neg"
  | "abs"
  | "sign"
  | "exp"
  | "log"
  | "sqrt"
  | "rsqrt"
  | "square"
  | "reciprocal"
  | "sin"
  | "cos"
  | "tanh"
  | "sigmoid"
  | "relu"
  | "gelu"
  | "geluTanh"
  | "silu"
  | "softplus"
  | "logSigmoid"
  | "floor"
  | "logicalNot"
  | "affine"
  | "clamp"
  | "powScalar";

/**
 * Elementwise ops of two inputs (already broadcast to the output shape through strides).
 * The `<op>Grad` rows take (x, dy) and return dy·f'(x) for the unary op of that name, reading `param`
 * as the forward op did; they are generated from the table in unary-ops.ts. Comparison ops write `bool`.
 */
export type BinaryOp =
  | "add"
  | "sub"
  | "mul"
  | "div"
  | "pow"
  | "maximum"
  | "minimum"
  | "eq"
  | "ne"
  | "lt"
  | "le"
  | "gt"
  | "ge"
  | "logicalAnd"
  | "logicalOr"
  | UnaryGradOp;

/** The derivative kernel of each differentiable unary op (every one but logicalNot). */
export type UnaryGradOp = `${Exclude<UnaryOp, "logicalNot">}Grad`;

/** Reductions over axes. `mean` divides by the product of the reduced sizes. */
export type ReduceOp = "sum" | "mean" | "max" | "min" | "prod";

/** Options of the fused attention kernel. */
export interface AttentionOptions {
  /** Multiplies q·kᵀ (usually 1/√headDim). */
  scale: number;
  /**
   * Causal masking aligned bottom-right: query i (of Lq) sees key j (of Lk) when j ≤ i + (Lk − Lq).
   * Equals PyTorch's `is_causal` when Lq == Lk and is what a KV cache needs when Lq < Lk.
   */
  causal: boolean;
}

/** Hyper-parameters of one AdamW update (bias correction folded in by the caller through `step`). */
export interface AdamWParams {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** 1-based step count, for bias correction. */
  step: number;
}

/**
 * One backend: a device's buffers and kernels. Shapes are validated by the frontend before a call;
 * a backend may assume consistent arguments. All `out*` buffers are contiguous (row-major) with the
 * shape stated per method, allocated by the frontend with `allocate`, and fully overwritten unless
 * the method says it accumulates.
 */
export interface Backend {
  /** Registry key, e.g. "cpu" (the TypeScript reference), "cpu-wasm", "webgpu". */
  readonly name: string;
  /** The device tensors of this backend report. */
  readonly device: DeviceName;
  /** Whether float64 buffers are supported (WebGPU: no; the frontend refuses them with a clear error). */
  readonly supportsFloat64: boolean;

  // ---- memory ----
  /** Returns a new buffer of `size` elements (contents undefined). */
  allocate(size: number, dtype: DType): BufferHandle;
  /** Gives a buffer back (to a pool or the system). The handle must not be used afterwards. */
  release(buffer: BufferHandle): void;
  /** Copies host data into the buffer starting at element `offset` (default 0). */
  write(buffer: BufferHandle, data: TypedArray, offset?: number): void;
  /** Resolves to a host copy of the contiguous elements [offset, offset + length) of the buffer. */
  read(buffer: BufferHandle, offset?: number, length?: number): Promise<TypedArray>;
  /** Returns bytes currently held in live buffers and bytes allocated from the device (pools included). */
  memoryInfo(): { bytesInUse: number; bytesAllocated: number };
  /** Resolves when all enqueued work has finished (optional for synchronous backends). */
  sync?(): Promise<void>;
  /** Frees every resource (workers, device); the backend is unusable afterwards. */
  dispose?(): void;

  // ---- data movement ----
  /** Writes `value` into every element of dst (a view, possibly strided). */
  fill(dst: View, value: number): void;
  /** Copies src into dst elementwise (same shape; dtype converted if they differ). Used for contiguous(), cat, pad, cast. */
  copy(src: View, dst: View): void;

  // ---- elementwise ----
  /** out[i] = op(x[i]) over x.shape. Output dtype: bool for logicalNot, else x's dtype. */
  unary(op: UnaryOp, x: View, out: BufferHandle, param?: readonly number[]): void;
  /** out[i] = op(a[i], b[i]); a and b already have the output shape (broadcast dims have stride 0). */
  binary(op: BinaryOp, a: View, b: View, out: BufferHandle, param?: readonly number[]): void;
  /** out[i] = cond[i] ? a[i] : b[i]; all three views have the output shape. */
  where(cond: View, a: View, b: View, out: BufferHandle): void;

  // ---- reductions ----
  /** Reduces x over `axes` (sorted, unique); out has x.shape with those axes set to 1. */
  reduce(op: ReduceOp, x: View, axes: readonly number[], out: BufferHandle): void;
  /** Index (int32) of the first max/min along `axis`; out has x.shape with that axis set to 1. */
  argReduce(op: "argmax" | "argmin", x: View, axis: number, out: BufferHandle): void;

  // ---- linear algebra ----
  /**
   * out[b] = a[b] @ b[b] for a: [...batch, M, K], b: [...batch, K, N], out: [...batch, M, N].
   * Batch dims are already broadcast to out's batch shape (stride 0 where broadcast). A transposed
   * operand arrives as a view whose last two strides are swapped (see `matrixLayout`): read it in place.
   */
  matmul(a: View, b: View, out: BufferHandle): void;

  // ---- indexing ----
  /** out = x.indexSelect(dim, index): index is int32 1-D; out has x.shape with shape[dim] = index.length. */
  indexSelect(x: View, index: View, dim: number, out: BufferHandle): void;
  /** dst[..., index[i], ...] += src[..., i, ...] along dim (accumulates into contiguous dst of `dstShape`). */
  indexAdd(dst: BufferHandle, dstShape: readonly number[], index: View, src: View, dim: number): void;
  /** out = x.gather(dim, index): out has index.shape; out[i][j]… = x[.. index[i][j] at dim ..]. */
  gather(x: View, index: View, dim: number, out: BufferHandle): void;
  /** dst[.. index[i][j] at dim ..] += src[i][j]… (accumulates into contiguous dst of `dstShape`). */
  scatterAdd(dst: BufferHandle, dstShape: readonly number[], index: View, src: View, dim: number): void;

  // ---- fused kernels ----
  /** Softmax (or log-softmax when `log`) of x along its last axis; out has x.shape. */
  softmax(x: View, log: boolean, out: BufferHandle): void;
  /** dx for softmax (y = softmax output) or log-softmax (y = log-softmax output) along the last axis. */
  softmaxBackward(y: View, dy: View, log: boolean, out: BufferHandle): void;
  /**
   * Cross entropy of logits [N, C] against int32 targets [N]: outLoss[N] holds each row's loss
   * (0 where target == ignoreIndex), outLse[N] each row's logsumexp (saved for backward).
   * With label smoothing ε: loss = (1−ε)·nll + ε·mean_c(−logp_c).
   */
  crossEntropy(
    logits: View,
    target: View,
    ignoreIndex: number,
    labelSmoothing: number,
    outLoss: BufferHandle,
    outLse: BufferHandle,
  ): void;
  /** dlogits [N, C] given dLoss [N] (per-row upstream gradient) and the saved lse. */
  crossEntropyBackward(
    logits: View,
    target: View,
    lse: View,
    dLoss: View,
    ignoreIndex: number,
    labelSmoothing: number,
    out: BufferHandle,
  ): void;
  /**
   * LayerNorm (or RMSNorm when `rms`) over the last axis of x [R, D]; weight/bias [D] optional.
   * out [R, D]; outMean [R] (unused for RMSNorm, may be a 1-element buffer); outRstd [R].
   */
  norm(
    x: View,
    weight: View | null,
    bias: View | null,
    eps: number,
    rms: boolean,
    out: BufferHandle,
    outMean: BufferHandle,
    outRstd: BufferHandle,
  ): void;
  /** Backward of `norm`: writes dx [R, D], and dWeight/dBias [D] when given (overwritten, not accumulated). */
  normBackward(
    x: View,
    weight: View | null,
    mean: View,
    rstd: View,
    dy: View,
    rms: boolean,
    dx: BufferHandle,
    dWeight: BufferHandle | null,
    dBias: BufferHandle | null,
  ): void;
  /**
   * Scaled dot-product attention. q [B, Hq, Lq, D], k/v [B, Hkv, Lk, D] (Hq a multiple of Hkv:
   * grouped-query heads share k/v head ⌊h·Hkv/Hq⌋), mask an additive float view broadcast to
   * [B, Hq, Lq, Lk] or null. out [B, Hq, Lq, D]; outLse [B, Hq, Lq] (row logsumexp, for backward).
   */
  attention(
    q: View,
    k: View,
    v: View,
    mask: View | null,
    options: AttentionOptions,
    out: BufferHandle,
    outLse: BufferHandle,
  ): void;
  /** Backward of `attention`: writes dq [B,Hq,Lq,D], dk and dv [B,Hkv,Lk,D] (summed over each group). */
  attentionBackward(
    q: View,
    k: View,
    v: View,
    mask: View | null,
    options: AttentionOptions,
    out: View,
    lse: View,
    dOut: View,
    dq: BufferHandle,
    dk: BufferHandle,
    dv: BufferHandle,
  ): void;

  /**
   * Rotary position embedding with the "rotate half" pairing: for x [..., D] (D even, h = D/2) and
   * cos/sin views of x's shape with last dim h (broadcast, stride 0 where shared),
   * out[..., j] = x[..., j]·cos − x[..., j+h]·sin and out[..., j+h] = x[..., j+h]·cos + x[..., j]·sin;
   * `inverse` rotates the other way (sin negated), which is the backward. out is contiguous.
   */
  rope(x: View, cos: View, sin: View, inverse: boolean, out: BufferHandle): void;

  // ---- optimizer ----
  /** In-place AdamW on contiguous param/m/v of equal size given a gradient view of the same size. */
  adamw(param: BufferHandle, grad: View, m: BufferHandle, v: BufferHandle, p: AdamWParams): void;
}

/** Returns "[2,3]" for a shape, as error messages print it. */
export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(",")}]`;
}

/** Returns the number of elements of a shape. */
export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Returns the row-major (contiguous) strides of a shape. */
export function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

/** Returns whether a view's elements are laid out row-major without gaps (size-1 dims ignored). */
export function isContiguous(view: { shape: readonly number[]; strides: readonly number[] }): boolean {
  let expected = 1;
  for (let i = view.shape.length - 1; i >= 0; i--) {
    if (view.shape[i] === 1) continue;
    if (view.strides[i] !== expected) return false;
    expected *= view.shape[i];
  }
  return true;
}

/**
 * How a matmul operand's last two dims are laid out: `transposed` false means element (r, c) is at
 * r·ld + c, true means it is at c·ld + r. Returns null when neither holds (the frontend then makes the
 * operand contiguous before calling `matmul`, so backends never see that case).
 */
export function matrixLayout(view: View): { transposed: boolean; ld: number } | null {
  const n = view.shape.length;
  const rows = view.shape[n - 2];
  const cols = view.shape[n - 1];
  const rs = view.strides[n - 2];
  const cs = view.strides[n - 1];
  if (cs === 1 || cols === 1) {
    const ld = rows === 1 ? Math.max(cols, 1) : rs;
    if (ld >= cols) return { transposed: false, ld };
  }
  if (rs === 1 || rows === 1) {
    const ld = cols === 1 ? Math.max(rows, 1) : cs;
    if (ld >= rows) return { transposed: true, ld };
  }
  return null;
}

/** Returns the byte size of one element of a dtype. */
export function dtypeBytes(dtype: DType): number {
  return dtype === "float64" ? 8 : dtype === "bool" ? 1 : 4;
}

/** Returns a new zeroed host typed array for a dtype. */
export function allocHost(dtype: DType, size: number): TypedArray {
  switch (dtype) {
    case "float32":
      return new Float32Array(size);
    case "float64":
      return new Float64Array(size);
    case "int32":
      return new Int32Array(size);
    case "bool":
      return new Uint8Array(size);
  }
}
