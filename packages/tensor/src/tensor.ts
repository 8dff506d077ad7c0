// The Tensor: a strided view (shape, strides, offset, dtype) onto a shared backend Storage, plus the
// autograd link. Ops live in ops/; the methods here forward to them in PyTorch's positional order.
// The ops import this file (they make tensors), so this file reaches them only through the table that
// ops/index.ts binds when it loads: the dependency goes one way, ops → tensor.

import { Node } from "./autograd.js";
import type { Backend, DeviceName, DType, TypedArray, View } from "./backend/backend.js";
import { contiguousStrides, fmtShape, numel } from "./backend/backend.js";
import { resolveBackend } from "./device.js";
import type { runBackward } from "./gradients.js";
import { type Storage, track, untrack } from "./memory.js";
import type * as Ops from "./ops/index.js";

export { fmtShape };

/** A nested JavaScript array of numbers (or booleans) as `toArray` returns. */
export type NestedArray = number | boolean | NestedArray[];

/** What the methods forward to: every op function, and the backward pass. */
export type TensorOps = typeof Ops & { runBackward: typeof runBackward };

let F: TensorOps = new Proxy({} as TensorOps, {
  get(_target, name) {
    throw new Error(
      `Tensor: method needs op "${String(name)}", but the ops are not loaded (import "@sr2se/tensor" or src/index.ts, not tensor.ts alone)`,
    );
  },
});

/** Binds the ops the Tensor methods call (ops/index.ts does, once); returns nothing. */
export function bindTensorOps(ops: TensorOps): void {
  F = ops;
}

/** An n-dimensional array on a device, with reverse-mode autograd. */
export class Tensor {
  readonly shape: number[];
  readonly strides: number[];
  readonly offset: number;
  readonly dtype: DType;
  readonly backend: Backend;
  /** Gradient accumulated by `backward` (leaves with requiresGrad only). */
  grad: Tensor | null = null;
  /** @internal */ _storage: Storage | null;
  /** @internal */ _node: Node | null = null;
  /** @internal */ _requiresGrad = false;
  /** @internal */ readonly _internal: boolean;
  /** @internal */ _scope: Set<import("./memory.js").Disposable> | null = null;

  /** @internal Use `tensor()`, `zeros()`… to make tensors. */
  constructor(
    storage: Storage,
    shape: number[],
    strides: number[] | null,
    offset: number,
    dtype: DType,
    internal = false,
  ) {
    this._storage = storage;
    this.shape = shape;
    this.strides = strides ?? contiguousStrides(shape);
    this.offset = offset;
    this.dtype = dtype;
    this.backend = storage.backend;
    this._internal = internal;
    track(this);
  }

  /** The device this tensor lives on. */
  get device(): DeviceName {
    return this.backend.device;
  }
  /** Number of dimensions. */
  get ndim(): number {
    return this.shape.length;
  }
  /** Number of elements. */
  get size(): number {
    return numel(this.shape);
  }
  /** Whether `dispose` was called. */
  get isDisposed(): boolean {
    return this._storage === null;
  }
  /** Whether gradients flow to this tensor. */
  get requiresGrad(): boolean {
    return this._requiresGrad;
  }
  set requiresGrad(value: boolean) {
    if (value && this.dtype !== "float32" && this.dtype !== "float64") {
      throw new Error(
        `requiresGrad: only float tensors can require gradients (got ${this.dtype} ${fmtShape(this.shape)})`,
      );
    }
    if (this._node && !this._node.leaf)
      throw new Error("requiresGrad: can only be set on leaf tensors (use detach() first)");
    this._requiresGrad = value;
    if (!value && this._node) {
      this._node.decref();
      this._node = null;
    }
  }

  /** @internal Returns the backend view of this tensor, checking it is still alive. */
  _view(op: string): View {
    const s = this._storage;
    if (!s) throw new Error(`${op}: tensor ${fmtShape(this.shape)} (${this.dtype}) was used after dispose()`);
    return { buffer: s.buffer, shape: this.shape, strides: this.strides, offset: this.offset };
  }

  /** @internal Returns the autograd node of this tensor (made lazily for leaves). */
  _gradNode(): Node | null {
    if (!this._requiresGrad) return null;
    if (!this._node) this._node = new Node("leaf", [], [], {}, this);
    return this._node;
  }

  /** @internal Returns a new tensor sharing this one's storage with another shape/strides (a view). */
  _alias(shape: number[], strides: number[], offset: number, internal = false): Tensor {
    const s = this._storage;
    if (!s) throw new Error(`view: tensor ${fmtShape(this.shape)} was used after dispose()`);
    return new Tensor(s.retain(), shape, strides, offset, this.dtype, internal);
  }

  /** Releases this tensor's hold on its buffer now; using it afterwards throws. */
  dispose(): void {
    if (!this._storage) return;
    this._storage.release();
    this._storage = null;
    untrack(this);
    if (this._node) {
      this._node.decref();
      this._node = null;
    }
    if (this.grad && this._internal === false && this._requiresGrad) {
      this.grad.dispose();
      this.grad = null;
    }
  }

  /** Computes gradients of this tensor (a scalar, unless `grad` is given) for every leaf that requires them. */
  backward(grad?: Tensor): void {
    F.runBackward(this, grad);
  }

  /** Returns a tensor sharing data with this one but outside the graph. */
  detach(): Tensor {
    return this._alias(this.shape, this.strides, this.offset);
  }

  /** Resolves to the elements as a typed array in row-major order. */
  async data(): Promise<TypedArray> {
    const view = this._view("data");
    const n = this.size;
    if (F.isDense(this)) return this.backend.read(view.buffer, this.offset, n);
    const c = F.contiguous(this, true);
    try {
      return await this.backend.read(c._view("data").buffer, 0, n);
    } finally {
      c.dispose();
    }
  }

  /** Resolves to a copy of this tensor on another device or backend (outside the graph). */
  async toDevice(device: string | Backend): Promise<Tensor> {
    const target = resolveBackend(device);
    const host = await this.data();
    const out = F.emptyOn(this.shape, this.dtype, target);
    target.write(out._view("toDevice").buffer, host);
    return out;
  }

  /** Resolves to the elements as nested arrays (booleans for bool tensors). */
  async toArray(): Promise<NestedArray> {
    const flat = await this.data();
    const bool = this.dtype === "bool";
    const build = (dim: number, off: number): NestedArray => {
      if (dim === this.shape.length) return bool ? flat[off] !== 0 : flat[off];
      const step = numel(this.shape.slice(dim + 1));
      const out: NestedArray[] = [];
      for (let i = 0; i < this.shape[dim]; i++) out.push(build(dim + 1, off + i * step));
      return out;
    };
    return build(0, 0);
  }

  /** Resolves to the single element of a one-element tensor. */
  async item(): Promise<number> {
    if (this.size !== 1)
      throw new Error(`item: tensor has ${this.size} elements ${fmtShape(this.shape)}, expected 1`);
    return (await this.data())[0];
  }

  /** Returns a short description (no data). */
  toString(): string {
    return `Tensor(${fmtShape(this.shape)}, ${this.dtype}, ${this.backend.name}${this._requiresGrad ? ", requiresGrad" : ""})`;
  }

  // ---- elementwise ----
  /** Returns this + other (broadcast). */
  add(other: Tensor | number): Tensor {
    return F.add(this, other);
  }
  /** Returns this − other (broadcast). */
  sub(other: Tensor | number): Tensor {
    return F.sub(this, other);
  }
  /** Returns this · other (broadcast). */
  mul(other: Tensor | number): Tensor {
    return F.mul(this, other);
  }
  /** Returns this / other (broadcast). */
  div(other: Tensor | number): Tensor {
    return F.div(this, other);
  }
  /** Returns this ** exponent (broadcast). */
  pow(exponent: Tensor | number): Tensor {
    return F.pow(this, exponent);
  }
  /** Returns −this. */
  neg(): Tensor {
    return F.neg(this);
  }
  /** Returns |this|. */
  abs(): Tensor {
    return F.abs(this);
  }
  /** Returns this². */
  square(): Tensor {
    return F.square(this);
  }
  /** Returns 1/this. */
  reciprocal(): Tensor {
    return F.reciprocal(this);
  }
  /** Returns the sign (−1, 0, 1). */
  sign(): Tensor {
    return F.sign(this);
  }
  /** Returns e^this. */
  exp(): Tensor {
    return F.exp(this);
  }
  /** Returns ln(this). */
  log(): Tensor {
    return F.log(this);
  }
  /** Returns √this. */
  sqrt(): Tensor {
    return F.sqrt(this);
  }
  /** Returns 1/√this. */
  rsqrt(): Tensor {
    return F.rsqrt(this);
  }
  /** Returns sin(this). */
  sin(): Tensor {
    return F.sin(this);
  }
  /** Returns cos(this). */
  cos(): Tensor {
    return F.cos(this);
  }
  /** Returns tanh(this). */
  tanh(): Tensor {
    return F.tanh(this);
  }
  /** Returns the logistic sigmoid. */
  sigmoid(): Tensor {
    return F.sigmoid(this);
  }
  /** Returns max(this, 0). */
  relu(): Tensor {
    return F.relu(this);
  }
  /** Returns GELU (exact, or the tanh approximation with approximate = "tanh"). */
  gelu(approximate: "none" | "tanh" = "none"): Tensor {
    return F.gelu(this, approximate);
  }
  /** Returns x·sigmoid(x). */
  silu(): Tensor {
    return F.silu(this);
  }
  /** Returns ln(1 + e^x). */
  softplus(): Tensor {
    return F.softplus(this);
  }
  /** Returns ln(sigmoid(x)). */
  logSigmoid(): Tensor {
    return F.logSigmoid(this);
  }
  /** Returns this clamped to [min, max] (either may be undefined). */
  clamp(min?: number, max?: number): Tensor {
    return F.clamp(this, min, max);
  }
  /** Returns the elementwise maximum. */
  maximum(other: Tensor | number): Tensor {
    return F.maximum(this, other);
  }
  /** Returns the elementwise minimum. */
  minimum(other: Tensor | number): Tensor {
    return F.minimum(this, other);
  }
  /** Returns bool this == other. */
  eq(other: Tensor | number): Tensor {
    return F.eq(this, other);
  }
  /** Returns bool this != other. */
  ne(other: Tensor | number): Tensor {
    return F.ne(this, other);
  }
  /** Returns bool this < other. */
  lt(other: Tensor | number): Tensor {
    return F.lt(this, other);
  }
  /** Returns bool this <= other. */
  le(other: Tensor | number): Tensor {
    return F.le(this, other);
  }
  /** Returns bool this > other. */
  gt(other: Tensor | number): Tensor {
    return F.gt(this, other);
  }
  /** Returns bool this >= other. */
  ge(other: Tensor | number): Tensor {
    return F.ge(this, other);
  }
  /** Returns bool ¬this. */
  logicalNot(): Tensor {
    return F.logicalNot(this);
  }
  /** Returns bool this ∧ other. */
  logicalAnd(other: Tensor): Tensor {
    return F.logicalAnd(this, other);
  }
  /** Returns bool this ∨ other. */
  logicalOr(other: Tensor): Tensor {
    return F.logicalOr(this, other);
  }
  /** Returns this converted to a dtype (a copy; gradients flow between float dtypes). */
  to(dtype: DType): Tensor {
    return F.cast(this, dtype);
  }
  /** Returns a contiguous copy (or this data in a fresh buffer). */
  clone(): Tensor {
    return F.contiguous(this, true);
  }
  /** Returns where(mask, value, this). */
  maskedFill(mask: Tensor, value: number): Tensor {
    return F.maskedFill(this, mask, value);
  }

  // ---- reductions ----
  /** Returns the sum over dim (all dims when omitted). */
  sum(dim?: number | number[], keepDim = false): Tensor {
    return F.sum(this, dim, keepDim);
  }
  /** Returns the mean over dim (all dims when omitted). */
  mean(dim?: number | number[], keepDim = false): Tensor {
    return F.mean(this, dim, keepDim);
  }
  /** Returns the maximum over dim (all dims when omitted). */
  max(dim?: number | number[], keepDim = false): Tensor {
    return F.max(this, dim, keepDim);
  }
  /** Returns the minimum over dim (all dims when omitted). */
  min(dim?: number | number[], keepDim = false): Tensor {
    return F.min(this, dim, keepDim);
  }
  /** Returns int32 indices of the maximum along dim (over the flattened tensor when omitted). */
  argmax(dim?: number, keepDim = false): Tensor {
    return F.argmax(this, dim, keepDim);
  }
  /** Returns the variance over dim with Bessel's correction (correction = 1) by default. */
  var(dim?: number | number[], keepDim = false, correction = 1): Tensor {
    return F.variance(this, dim, keepDim, correction);
  }
  /** Returns log Σ exp over dim, computed stably. */
  logSumExp(dim?: number | number[], keepDim = false): Tensor {
    return F.logSumExp(this, dim, keepDim);
  }
  /** Returns softmax along dim. */
  softmax(dim = -1): Tensor {
    return F.softmax(this, dim);
  }
  /** Returns log-softmax along dim. */
  logSoftmax(dim = -1): Tensor {
    return F.logSoftmax(this, dim);
  }

  // ---- linear algebra ----
  /** Returns the (batched, broadcast) matrix product. */
  matmul(other: Tensor): Tensor {
    return F.matmul(this, other);
  }

  // ---- shape ----
  /** Returns the same data with another shape (one dim may be -1). */
  reshape(...shape: (number | number[])[]): Tensor {
    return F.reshape(this, shape.flat());
  }
  /** Returns a view with another shape; throws when the layout does not allow one. */
  view(...shape: (number | number[])[]): Tensor {
    return F.view(this, shape.flat());
  }
  /** Returns a view with dims d0 and d1 swapped. */
  transpose(d0: number, d1: number): Tensor {
    return F.transpose(this, d0, d1);
  }
  /** Returns a view with dims reordered. */
  permute(...dims: (number | number[])[]): Tensor {
    return F.permute(this, dims.flat());
  }
  /** Returns a broadcast view to shape (-1 keeps a dim). */
  expand(...shape: (number | number[])[]): Tensor {
    return F.expand(this, shape.flat());
  }
  /** Returns a view without size-1 dims (or only dim). */
  squeeze(dim?: number): Tensor {
    return F.squeeze(this, dim);
  }
  /** Returns a view with a size-1 dim inserted at dim. */
  unsqueeze(dim: number): Tensor {
    return F.unsqueeze(this, dim);
  }
  /** Returns dims startDim..endDim merged into one. */
  flatten(startDim = 0, endDim = -1): Tensor {
    return F.flatten(this, startDim, endDim);
  }
  /** Returns the view of `length` elements of dim starting at `start`. */
  narrow(dim: number, start: number, length: number): Tensor {
    return F.narrow(this, dim, start, length);
  }
  /** Returns pieces of `size` (or the listed sizes) along dim. */
  split(size: number | number[], dim = 0): Tensor[] {
    return F.split(this, size, dim);
  }
  /** Returns `chunks` nearly equal pieces along dim. */
  chunk(chunks: number, dim = 0): Tensor[] {
    return F.chunk(this, chunks, dim);
  }
  /** Returns the data in a fresh row-major buffer (this when already contiguous). */
  contiguous(): Tensor {
    return F.contiguous(this);
  }

  // ---- indexing ----
  /** Returns the slices of dim at the int32 1-D index. */
  indexSelect(dim: number, index: Tensor): Tensor {
    return F.indexSelect(this, dim, index);
  }
  /** Returns values gathered along dim at index (index's shape). */
  gather(dim: number, index: Tensor): Tensor {
    return F.gather(this, dim, index);
  }
  /** Returns a copy of this with src added at index along dim. */
  scatterAdd(dim: number, index: Tensor, src: Tensor): Tensor {
    return F.scatterAdd(this, dim, index, src);
  }
  /** Returns the lower triangle (on and below diagonal) of the last two dims. */
  tril(diagonal = 0): Tensor {
    return F.tril(this, diagonal);
  }
  /** Returns the upper triangle (on and above diagonal) of the last two dims. */
  triu(diagonal = 0): Tensor {
    return F.triu(this, diagonal);
  }
}
