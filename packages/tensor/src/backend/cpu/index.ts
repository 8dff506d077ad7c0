// The reference backend: plain TypeScript kernels over typed arrays, float32 and float64. Every other
// backend is tested against it.
import {
  type AdamWParams,
  type AttentionOptions,
  allocHost,
  type Backend,
  type BinaryOp,
  type BufferHandle,
  type DType,
  dtypeBytes,
  isContiguous,
  matrixLayout,
  numel,
  type ReduceOp,
  type TypedArray,
  type UnaryOp,
  type View,
} from "../backend.js";
import { attentionBackward, attentionForward, type Strided4 } from "./attention.js";
import { binaryRow, unaryRow } from "./elementwise.js";
import {
  adamwUpdate,
  crossEntropyBackwardRows,
  crossEntropyRows,
  normBackwardRows,
  normRows,
  softmaxBackwardRows,
  softmaxRows,
} from "./fused.js";
import { type CpuView, gatherInto, indexAddInto, indexSelectInto, scatterAddInto } from "./indexing.js";
import { gemm } from "./matmul.js";
import { argReduceInto, reduceInto } from "./reduce.js";
import { forEachRow } from "./strided.js";

/** A reference-backend buffer: a typed array. */
export interface CpuBuffer extends BufferHandle {
  data: TypedArray;
}

function buf(b: BufferHandle): TypedArray {
  return (b as CpuBuffer).data;
}

function cv(v: View): CpuView {
  return { data: buf(v.buffer), shape: v.shape, strides: v.strides, offset: v.offset };
}

function contiguousStridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let t = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = t;
    t *= shape[i];
  }
  return s;
}

/** Returns the view's data as a contiguous array plus start offset, copying only when strided. */
function dense(v: View): { data: TypedArray; off: number } {
  const data = buf(v.buffer);
  if (isContiguous(v)) return { data, off: v.offset };
  const out = allocHost(v.buffer.dtype, numel(v.shape));
  copyStrided(data, v.shape, v.strides, v.offset, out, contiguousStridesOf(v.shape), 0);
  return { data: out, off: 0 };
}

function copyStrided(
  src: TypedArray,
  shape: readonly number[],
  ss: readonly number[],
  so: number,
  dst: TypedArray,
  ds: readonly number[],
  dOff: number,
): void {
  const toBool = dst instanceof Uint8Array && !(src instanceof Uint8Array);
  forEachRow(shape, [ss, ds], [so, dOff], (pos, n, st) => {
    let s = pos[0];
    let d = pos[1];
    const a = st[0];
    const b = st[1];
    if (toBool) for (let i = 0; i < n; i++, s += a, d += b) dst[d] = src[s] !== 0 ? 1 : 0;
    else if (a === 1 && b === 1 && src.constructor === dst.constructor) dst.set(src.subarray(s, s + n), d);
    else for (let i = 0; i < n; i++, s += a, d += b) dst[d] = src[s];
  });
}

function s4(v: View): Strided4 {
  return { data: buf(v.buffer), off: v.offset, s: v.strides };
}

/** The TypeScript reference backend (registry name "cpu"). */
export class CpuBackend implements Backend {
  readonly name: string = "cpu";
  readonly device = "cpu" as const;
  readonly supportsFloat64 = true;
  private bytes = 0;
  // Released arrays kept for reuse by (dtype, size): a training step allocates the same shapes every
  // time, and reusing them spares the zeroing and most of the garbage collector's work.
  private readonly pool = new Map<string, TypedArray[]>();
  private pooled = 0;
  /** Bytes of released arrays the pool may hold. */
  poolCapBytes = 256 * 2 ** 20;

  allocate(size: number, dtype: DType): BufferHandle {
    const bytes = size * dtypeBytes(dtype);
    const reused = this.pool.get(`${dtype}:${size}`)?.pop();
    if (reused) this.pooled -= bytes;
    const b: CpuBuffer = { dtype, size, data: reused ?? allocHost(dtype, size) };
    this.bytes += bytes;
    return b;
  }
  release(buffer: BufferHandle): void {
    const b = buffer as CpuBuffer;
    if (!b.data) return;
    const bytes = b.size * dtypeBytes(b.dtype);
    this.bytes -= bytes;
    if (bytes > 0 && this.pooled + bytes <= this.poolCapBytes) {
      const key = `${b.dtype}:${b.size}`;
      let list = this.pool.get(key);
      if (!list) this.pool.set(key, (list = []));
      list.push(b.data);
      this.pooled += bytes;
    }
    (b as { data: TypedArray | null }).data = null as unknown as TypedArray;
  }
  write(buffer: BufferHandle, data: TypedArray, offset = 0): void {
    const dst = buf(buffer);
    if (dst.constructor === data.constructor) dst.set(data, offset);
    else for (let i = 0; i < data.length; i++) dst[offset + i] = data[i];
  }
  async read(buffer: BufferHandle, offset = 0, length?: number): Promise<TypedArray> {
    const data = buf(buffer);
    return data.slice(offset, offset + (length ?? data.length - offset));
  }
  memoryInfo(): { bytesInUse: number; bytesAllocated: number } {
    return { bytesInUse: this.bytes, bytesAllocated: this.bytes + this.pooled };
  }

  fill(dst: View, value: number): void {
    const d = buf(dst.buffer);
    forEachRow(dst.shape, [dst.strides], [dst.offset], (pos, n, st) => {
      if (st[0] === 1) d.fill(value, pos[0], pos[0] + n);
      else for (let i = 0, p = pos[0]; i < n; i++, p += st[0]) d[p] = value;
    });
  }
  copy(src: View, dst: View): void {
    copyStrided(
      buf(src.buffer),
      src.shape,
      src.strides,
      src.offset,
      buf(dst.buffer),
      dst.strides,
      dst.offset,
    );
  }

  unary(op: UnaryOp, x: View, out: BufferHandle, param: readonly number[] = []): void {
    const row = unaryRow(op);
    const X = buf(x.buffer);
    const O = buf(out);
    const p0 = param[0] ?? 0;
    const p1 = param[1] ?? 0;
    forEachRow(x.shape, [x.strides, contiguousStridesOf(x.shape)], [x.offset, 0], (pos, n, st) =>
      row(X, pos[0], st[0], O, pos[1], st[1], n, p0, p1),
    );
  }
  binary(op: BinaryOp, a: View, b: View, out: BufferHandle, param: readonly number[] = []): void {
    const row = binaryRow(op);
    const A = buf(a.buffer);
    const B = buf(b.buffer);
    const O = buf(out);
    const p0 = param[0] ?? 0;
    const p1 = param[1] ?? 0;
    forEachRow(
      a.shape,
      [a.strides, b.strides, contiguousStridesOf(a.shape)],
      [a.offset, b.offset, 0],
      (pos, n, st) => row(A, pos[0], st[0], B, pos[1], st[1], O, pos[2], st[2], n, p0, p1),
    );
  }
  where(cond: View, a: View, b: View, out: BufferHandle): void {
    const C = buf(cond.buffer);
    const A = buf(a.buffer);
    const B = buf(b.buffer);
    const O = buf(out);
    forEachRow(
      a.shape,
      [cond.strides, a.strides, b.strides, contiguousStridesOf(a.shape)],
      [cond.offset, a.offset, b.offset, 0],
      (pos, n, st) => {
        let c = pos[0];
        let ap = pos[1];
        let bp = pos[2];
        let o = pos[3];
        for (let i = 0; i < n; i++, c += st[0], ap += st[1], bp += st[2], o += st[3])
          O[o] = C[c] ? A[ap] : B[bp];
      },
    );
  }

  reduce(op: ReduceOp, x: View, axes: readonly number[], out: BufferHandle): void {
    reduceInto(op, { ...x, data: buf(x.buffer) }, axes, buf(out));
  }
  argReduce(op: "argmax" | "argmin", x: View, axis: number, out: BufferHandle): void {
    argReduceInto(op, { ...x, data: buf(x.buffer) }, axis, buf(out) as Int32Array);
  }

  matmul(a: View, b: View, out: BufferHandle): void {
    const nd = a.shape.length;
    const M = a.shape[nd - 2];
    const K = a.shape[nd - 1];
    const N = b.shape[nd - 1];
    const la = matrixLayout(a);
    const lb = matrixLayout(b);
    if (!la || !lb)
      throw new Error(
        "matmul: operand layout not supported by the backend (frontend must make it contiguous)",
      );
    const batchShape = a.shape.slice(0, nd - 2);
    const C = buf(out);
    const A = buf(a.buffer);
    const B = buf(b.buffer);
    const aRef = { data: A, off: 0, rs: la.transposed ? 1 : la.ld, cs: la.transposed ? la.ld : 1 };
    const bRef = { data: B, off: 0, rs: lb.transposed ? 1 : lb.ld, cs: lb.transposed ? lb.ld : 1 };
    let c = 0;
    const step = M * N;
    if (batchShape.length === 0) {
      aRef.off = a.offset;
      bRef.off = b.offset;
      gemm(aRef, bRef, C, 0, M, N, K);
      return;
    }
    forEachRow(
      [...batchShape, 1],
      [
        [...a.strides.slice(0, nd - 2), 0],
        [...b.strides.slice(0, nd - 2), 0],
      ],
      [a.offset, b.offset],
      (pos, n, st) => {
        for (let i = 0; i < n; i++) {
          aRef.off = pos[0] + i * st[0];
          bRef.off = pos[1] + i * st[1];
          gemm(aRef, bRef, C, c, M, N, K);
          c += step;
        }
      },
    );
  }

  indexSelect(x: View, index: View, dim: number, out: BufferHandle): void {
    indexSelectInto(cv(x), cv(index), dim, buf(out));
  }
  indexAdd(dst: BufferHandle, dstShape: readonly number[], index: View, src: View, dim: number): void {
    indexAddInto(buf(dst), dstShape, cv(index), cv(src), dim);
  }
  gather(x: View, index: View, dim: number, out: BufferHandle): void {
    gatherInto(cv(x), cv(index), dim, buf(out));
  }
  scatterAdd(dst: BufferHandle, dstShape: readonly number[], index: View, src: View, dim: number): void {
    scatterAddInto(buf(dst), dstShape, cv(index), cv(src), dim);
  }

  rope(x: View, cos: View, sin: View, inverse: boolean, out: BufferHandle): void {
    const D = x.shape[x.shape.length - 1];
    const h = D / 2;
    const rows = D === 0 ? 0 : numel(x.shape) / D;
    const xd = dense(x);
    const cd = dense(cos);
    const sd = dense(sin);
    const o = buf(out);
    const sign = inverse ? -1 : 1;
    for (let r = 0; r < rows; r++) {
      const xo = xd.off + r * D;
      const to = r * h;
      for (let j = 0; j < h; j++) {
        const x1 = xd.data[xo + j] as number;
        const x2 = xd.data[xo + j + h] as number;
        const c = cd.data[cd.off + to + j] as number;
        const s = sign * (sd.data[sd.off + to + j] as number);
        o[r * D + j] = x1 * c - x2 * s;
        o[r * D + j + h] = x2 * c + x1 * s;
      }
    }
  }
  softmax(x: View, log: boolean, out: BufferHandle): void {
    const C = x.shape[x.shape.length - 1];
    const n = numel(x.shape);
    const d = dense(x);
    softmaxRows(d.data, d.off, C === 0 ? 0 : n / C, C, log, buf(out));
  }
  softmaxBackward(y: View, dy: View, log: boolean, out: BufferHandle): void {
    const C = y.shape[y.shape.length - 1];
    const n = numel(y.shape);
    const yd = dense(y);
    const gd = dense(dy);
    softmaxBackwardRows(yd.data, yd.off, gd.data, gd.off, C === 0 ? 0 : n / C, C, log, buf(out));
  }
  crossEntropy(
    logits: View,
    target: View,
    ignoreIndex: number,
    labelSmoothing: number,
    outLoss: BufferHandle,
    outLse: BufferHandle,
  ): void {
    const [N, C] = logits.shape;
    const x = dense(logits);
    const t = dense(target);
    crossEntropyRows(
      x.data,
      x.off,
      t.data,
      t.off,
      N,
      C,
      ignoreIndex,
      labelSmoothing,
      buf(outLoss),
      buf(outLse),
    );
  }
  crossEntropyBackward(
    logits: View,
    target: View,
    lse: View,
    dLoss: View,
    ignoreIndex: number,
    labelSmoothing: number,
    out: BufferHandle,
  ): void {
    const [N, C] = logits.shape;
    const x = dense(logits);
    const t = dense(target);
    const l = dense(lse);
    crossEntropyBackwardRows(
      x.data,
      x.off,
      t.data,
      t.off,
      l.data,
      l.off,
      buf(dLoss.buffer),
      dLoss.offset,
      dLoss.strides[0] ?? 0,
      N,
      C,
      ignoreIndex,
      labelSmoothing,
      buf(out),
    );
  }
  norm(
    x: View,
    weight: View | null,
    bias: View | null,
    eps: number,
    rms: boolean,
    out: BufferHandle,
    outMean: BufferHandle,
    outRstd: BufferHandle,
  ): void {
    const [R, D] = x.shape;
    const xd = dense(x);
    const w = weight ? dense(weight) : null;
    const b = bias ? dense(bias) : null;
    normRows(
      xd.data,
      xd.off,
      R,
      D,
      w?.data ?? null,
      w?.off ?? 0,
      b?.data ?? null,
      b?.off ?? 0,
      eps,
      rms,
      buf(out),
      buf(outMean),
      buf(outRstd),
    );
  }
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
  ): void {
    const [R, D] = x.shape;
    const xd = dense(x);
    const w = weight ? dense(weight) : null;
    const m = dense(mean);
    const r = dense(rstd);
    const g = dense(dy);
    normBackwardRows(
      xd.data,
      xd.off,
      R,
      D,
      w?.data ?? null,
      w?.off ?? 0,
      m.data,
      m.off,
      r.data,
      r.off,
      g.data,
      g.off,
      rms,
      buf(dx),
      dWeight ? buf(dWeight) : null,
      dBias ? buf(dBias) : null,
    );
  }
  attention(
    q: View,
    k: View,
    v: View,
    mask: View | null,
    options: AttentionOptions,
    out: BufferHandle,
    outLse: BufferHandle,
  ): void {
    const [B, Hq, Lq, D] = q.shape;
    const [, Hkv, Lk] = k.shape;
    attentionForward(
      s4(q),
      s4(k),
      s4(v),
      mask ? s4(mask) : null,
      { B, Hq, Hkv, Lq, Lk, D },
      options,
      buf(out),
      buf(outLse),
    );
  }
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
  ): void {
    const [B, Hq, Lq, D] = q.shape;
    const [, Hkv, Lk] = k.shape;
    attentionBackward(
      s4(q),
      s4(k),
      s4(v),
      mask ? s4(mask) : null,
      { B, Hq, Hkv, Lq, Lk, D },
      options,
      s4(out),
      s4(lse),
      s4(dOut),
      buf(dq),
      buf(dk),
      buf(dv),
    );
  }
  adamw(param: BufferHandle, grad: View, m: BufferHandle, v: BufferHandle, p: AdamWParams): void {
    const g = dense(grad);
    adamwUpdate(buf(param), g.data, g.off, buf(m), buf(v), param.size, p);
  }
}

let shared: CpuBackend | null = null;

/** Returns the process-wide reference backend instance. */
export function referenceBackend(): CpuBackend {
  shared ??= new CpuBackend();
  return shared;
}
