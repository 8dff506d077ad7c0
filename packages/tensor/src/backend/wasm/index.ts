// The fast CPU backend ("cpu-wasm"): the reference backend's buffers placed in one shared WebAssembly
// memory, so the hot kernels (matmul, attention) run as WebAssembly SIMD on worker threads, while every
// other op runs the reference TypeScript kernel on the same typed-array views, unchanged.
import {
  type AdamWParams,
  type AttentionOptions,
  type BinaryOp,
  type BufferHandle,
  type DType,
  dtypeBytes,
  isContiguous,
  matrixLayout,
  numel,
  type ReduceOp,
  type UnaryOp,
  type View,
} from "../backend.js";
import { CpuBackend, type CpuBuffer } from "../cpu/index.js";
import type { BackendInitOptions } from "../registry.js";
import { attentionBackward, attentionForward } from "./attention.js";
import { BINARY_F32X4, COMMUTATIVE, UNARY_F32X4 } from "./kernels/elementwise.js";
import { type GemmArgs, WasmRuntime } from "./runtime.js";

/** A fast-backend buffer: a reference buffer whose typed array lives at `ptr` in the shared memory. */
export interface WasmBuffer extends CpuBuffer {
  ptr: number;
  bytes: number;
}

function ptrOf(b: BufferHandle): number {
  return (b as WasmBuffer).ptr;
}

/**
 * Returns a shape with size-1 dims dropped and neighbours merged wherever every stride list allows
 * (outer stride = inner stride × inner size), with the merged strides; null for an empty shape.
 */
function mergeDims(
  shape: readonly number[],
  strides: readonly (readonly number[])[],
): [number[], number[][]] | null {
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i] === 1) continue;
    if (shape[i] === 0) return null;
    const last = outShape.length - 1;
    if (last >= 0 && strides.every((s, t) => s[i] === outStrides[t][0] * outShape[0])) {
      outShape[0] *= shape[i];
    } else {
      outShape.unshift(shape[i]);
      for (let t = 0; t < strides.length; t++) outStrides[t].unshift(strides[t][i]);
    }
  }
  if (outShape.length === 0) {
    outShape.push(1);
    for (const s of outStrides) s.push(0);
  }
  return [outShape, outStrides];
}

/** Byte address of a view's first element. */
function viewPtr(v: View): number {
  return ptrOf(v.buffer) + v.offset * dtypeBytes(v.buffer.dtype);
}

/** Throws the reference backend's error for a class index outside [0, C) (the kernel does not check). */
function checkTargets(target: View, N: number, C: number, ignoreIndex: number): void {
  const t = (target.buffer as WasmBuffer).data;
  for (let r = 0; r < N; r++) {
    const v = t[target.offset + r];
    if (v !== ignoreIndex && (v < 0 || v >= C)) {
      throw new RangeError(`crossEntropy: target ${v} at row ${r} is outside [0, ${C})`);
    }
  }
}

function allFloat32(...views: (View | BufferHandle | null)[]): boolean {
  for (const v of views) {
    if (!v) continue;
    const dtype = "buffer" in v ? v.buffer.dtype : v.dtype;
    if (dtype !== "float32") return false;
  }
  return true;
}

/** One batch dimension after merging: its size and the element stride of a, b and c along it. */
interface BatchDim {
  n: number;
  sa: number;
  sb: number;
  sc: number;
}

/** Returns the batch dims of a matmul with mergeable neighbours merged and size-1 dims dropped, outermost first. */
function mergeBatchDims(shape: readonly number[], sa: readonly number[], sb: readonly number[]): BatchDim[] {
  const dims: BatchDim[] = [];
  let sc = 1;
  const strideC: number[] = new Array(shape.length);
  for (let i = shape.length - 1; i >= 0; i--) {
    strideC[i] = sc;
    sc *= shape[i];
  }
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i] === 1) continue;
    const d = { n: shape[i], sa: sa[i], sb: sb[i], sc: strideC[i] };
    const inner = dims[0];
    if (inner && inner.sa * inner.n === d.sa && inner.sb * inner.n === d.sb && inner.sc * inner.n === d.sc) {
      inner.n *= d.n;
    } else dims.unshift(d);
  }
  return dims;
}

/**
 * Returns 0 when the view is contiguous, p when it repeats a contiguous block of its last p elements
 * (stride 0 on the leading dims: a broadcast bias or scalar), and −1 otherwise.
 */
function repeatPeriod(v: View): number {
  if (isContiguous(v)) return 0;
  let expected = 1;
  let i = v.shape.length - 1;
  for (; i >= 0; i--) {
    if (v.shape[i] === 1) continue;
    if (v.strides[i] !== expected) break;
    expected *= v.shape[i];
  }
  for (; i >= 0; i--) if (v.shape[i] !== 1 && v.strides[i] !== 0) return -1;
  return expected;
}

/** The fast CPU backend: WebAssembly SIMD kernels on worker threads, the reference kernels for the rest. */
export class WasmCpuBackend extends CpuBackend {
  override readonly name: string = "cpu-wasm";
  private readonly baseline: number;
  /** Constant rows (ones, zeros) by size, for norms without weight or bias. */
  private readonly constants = new Map<number, number>();

  constructor(readonly runtime: WasmRuntime) {
    super();
    this.baseline = runtime.heap.bytesInUse;
  }

  override allocate(size: number, dtype: DType): BufferHandle {
    const bytes = size * dtypeBytes(dtype);
    const ptr = this.runtime.heap.alloc(bytes);
    const mem = this.runtime.memory.buffer;
    const data =
      dtype === "float32"
        ? new Float32Array(mem, ptr, size)
        : dtype === "float64"
          ? new Float64Array(mem, ptr, size)
          : dtype === "int32"
            ? new Int32Array(mem, ptr, size)
            : new Uint8Array(mem, ptr, size);
    const b: WasmBuffer = { dtype, size, data, ptr, bytes };
    return b;
  }

  override release(buffer: BufferHandle): void {
    const b = buffer as WasmBuffer;
    if (!b.data) return;
    this.runtime.heap.release(b.ptr, b.bytes);
    (b as { data: unknown }).data = null;
  }

  override memoryInfo(): { bytesInUse: number; bytesAllocated: number } {
    const heap = this.runtime.heap;
    return { bytesInUse: heap.bytesInUse - this.baseline, bytesAllocated: heap.bytesAllocated };
  }

  /** Ends the worker threads; the backend is unusable afterwards. */
  dispose(): void {
    this.runtime.close();
  }

  override matmul(a: View, b: View, out: BufferHandle): void {
    const la = matrixLayout(a);
    const lb = matrixLayout(b);
    if (out.dtype !== "float32" || !la || !lb) {
      super.matmul(a, b, out);
      return;
    }
    const nd = a.shape.length;
    const M = a.shape[nd - 2];
    const K = a.shape[nd - 1];
    const N = b.shape[nd - 1];
    if (M === 0 || N === 0) return;
    const dims = mergeBatchDims(
      a.shape.slice(0, nd - 2),
      a.strides.slice(0, nd - 2),
      b.strides.slice(0, nd - 2),
    );
    const inner = dims.pop() ?? { n: 1, sa: 0, sb: 0, sc: 0 };
    const base: GemmArgs = {
      a: ptrOf(a.buffer) + a.offset * 4,
      b: ptrOf(b.buffer) + b.offset * 4,
      c: ptrOf(out),
      batch: inner.n,
      M,
      N,
      K,
      sab: inner.sa,
      sam: la.transposed ? 1 : la.ld,
      sak: la.transposed ? la.ld : 1,
      sbb: inner.sb,
      sbk: lb.transposed ? 1 : lb.ld,
      sbn: lb.transposed ? lb.ld : 1,
      scb: inner.sc * M * N,
      scm: N,
    };
    if (dims.length === 0) {
      this.runtime.gemm(base);
      return;
    }
    // Batch dims that do not merge (a broadcast between others): one list item per outer index.
    const items: GemmArgs[] = [];
    const idx = new Array<number>(dims.length).fill(0);
    for (;;) {
      let oa = 0;
      let ob = 0;
      let oc = 0;
      for (let d = 0; d < dims.length; d++) {
        oa += idx[d] * dims[d].sa;
        ob += idx[d] * dims[d].sb;
        oc += idx[d] * dims[d].sc;
      }
      items.push({ ...base, a: base.a + oa * 4, b: base.b + ob * 4, c: base.c + oc * M * N * 4 });
      let d = dims.length - 1;
      while (d >= 0 && ++idx[d] === dims[d].n) idx[d--] = 0;
      if (d < 0) break;
    }
    this.runtime.gemmList(items);
  }

  override unary(op: UnaryOp, x: View, out: BufferHandle, param: readonly number[] = []): void {
    const n = numel(x.shape);
    if (!(op in UNARY_F32X4) || !allFloat32(x, out) || !isContiguous(x) || n < 1024) {
      super.unary(op, x, out, param);
      return;
    }
    const p = ptrOf(x.buffer) + x.offset * 4;
    this.runtime.rows(`unary_${op}`, n, [p, ptrOf(out), n, param[0] ?? 0, param[1] ?? 0], 8, 4);
  }

  override binary(op: BinaryOp, a: View, b: View, out: BufferHandle, param: readonly number[] = []): void {
    const n = numel(a.shape);
    if (!(op in BINARY_F32X4) || !allFloat32(a, b, out) || n < 1024) {
      super.binary(op, a, b, out, param);
      return;
    }
    let pa = repeatPeriod(a);
    let pb = repeatPeriod(b);
    let left = a;
    let right = b;
    if (pa !== 0 && pb === 0 && COMMUTATIVE.has(op)) {
      [left, right] = [b, a];
      [pa, pb] = [pb, pa];
    }
    if (pa !== 0 || pb < 0) {
      if (param.length > 0 || !this.binaryRows(op, a, b, out)) super.binary(op, a, b, out, param);
      return;
    }
    const rt = this.runtime;
    let bp = ptrOf(right.buffer) + right.offset * 4;
    let period = pb;
    let tmp = 0;
    let tmpBytes = 0;
    if (pb % 4 !== 0) {
      // A period that is not a whole number of vectors repeats into lcm(period, 4) elements.
      period = pb % 2 === 0 ? 2 * pb : 4 * pb;
      tmpBytes = period * 4;
      tmp = rt.heap.alloc(tmpBytes);
      const src = new Float32Array(rt.memory.buffer, bp, pb);
      const dst = new Float32Array(rt.memory.buffer, tmp, period);
      for (let i = 0; i < period; i += pb) dst.set(src, i);
      bp = tmp;
    }
    const ap = ptrOf(left.buffer) + left.offset * 4;
    rt.rows(`binary_${op}`, n, [ap, bp, ptrOf(out), n, period, param[0] ?? 0, param[1] ?? 0], 4, 4);
    if (tmp) rt.heap.release(tmp, tmpBytes);
  }

  /** Returns the address of D ones (fill 1) or zeros (fill 0), cached per size. */
  private constant(D: number, fill: 0 | 1): number {
    const key = D * 2 + fill;
    let p = this.constants.get(key);
    if (p === undefined) {
      p = this.runtime.heap.alloc(D * 4);
      new Float32Array(this.runtime.memory.buffer, p, D).fill(fill);
      this.constants.set(key, p);
    }
    return p;
  }

  override norm(
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
    const dense = (v: View | null) => !v || isContiguous(v);
    if (
      !allFloat32(x, weight, bias, out, outMean, outRstd) ||
      !dense(x) ||
      !dense(weight) ||
      !dense(bias) ||
      R * D === 0
    ) {
      super.norm(x, weight, bias, eps, rms, out, outMean, outRstd);
      return;
    }
    const w = weight ? viewPtr(weight) : this.constant(D, 1);
    const b = bias ? viewPtr(bias) : this.constant(D, 0);
    this.runtime.rows(
      "normRows",
      R,
      [viewPtr(x), R, D, w, b, eps, rms ? 1 : 0, ptrOf(out), ptrOf(outMean), ptrOf(outRstd)],
      D * 3,
    );
  }

  override normBackward(
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
    const views = [x, weight, mean, rstd, dy];
    if (
      !allFloat32(...views, dx, dWeight, dBias) ||
      views.some((v) => v && !isContiguous(v)) ||
      R * D === 0
    ) {
      super.normBackward(x, weight, mean, rstd, dy, rms, dx, dWeight, dBias);
      return;
    }
    const rt = this.runtime;
    const P = Math.min(R, 8);
    const partialBytes = P * 2 * D * 4;
    const partial = rt.heap.alloc(partialBytes);
    const sums = new Float32Array(rt.memory.buffer, partial, P * 2 * D);
    sums.fill(0);
    const w = weight ? viewPtr(weight) : this.constant(D, 1);
    // a fixed split of the rows into parts: the same bits on every run and for any thread count
    const used = rt.rowsPerThread(
      "normBackwardRows",
      R,
      (t, first, n) => [
        viewPtr(x) + first * D * 4,
        n,
        D,
        w,
        viewPtr(mean) + first * 4,
        viewPtr(rstd) + first * 4,
        viewPtr(dy) + first * D * 4,
        rms ? 1 : 0,
        ptrOf(dx) + first * D * 4,
        partial + t * 2 * D * 4,
        partial + (t * 2 + 1) * D * 4,
      ],
      D * 4,
    );
    for (const [target, k] of [
      [dWeight, 0],
      [dBias, 1],
    ] as const) {
      if (!target) continue;
      const dst = (target as WasmBuffer).data as Float32Array;
      for (let i = 0; i < D; i++) {
        let s = 0;
        for (let t = 0; t < used; t++) s += sums[(t * 2 + k) * D + i];
        dst[i] = s;
      }
    }
    rt.heap.release(partial, partialBytes);
  }

  override crossEntropy(
    logits: View,
    target: View,
    ignoreIndex: number,
    labelSmoothing: number,
    outLoss: BufferHandle,
    outLse: BufferHandle,
  ): void {
    const [N, C] = logits.shape;
    if (
      !allFloat32(logits, outLoss, outLse) ||
      !isContiguous(logits) ||
      !isContiguous(target) ||
      N * C === 0
    ) {
      super.crossEntropy(logits, target, ignoreIndex, labelSmoothing, outLoss, outLse);
      return;
    }
    checkTargets(target, N, C, ignoreIndex);
    this.runtime.rows(
      "crossEntropyRows",
      N,
      [viewPtr(logits), viewPtr(target), N, C, ignoreIndex, labelSmoothing, ptrOf(outLoss), ptrOf(outLse)],
      C * 2,
    );
  }

  override crossEntropyBackward(
    logits: View,
    target: View,
    lse: View,
    dLoss: View,
    ignoreIndex: number,
    labelSmoothing: number,
    out: BufferHandle,
  ): void {
    const [N, C] = logits.shape;
    if (
      !allFloat32(logits, lse, dLoss, out) ||
      ![logits, target, lse].every((v) => isContiguous(v)) ||
      N * C === 0
    ) {
      super.crossEntropyBackward(logits, target, lse, dLoss, ignoreIndex, labelSmoothing, out);
      return;
    }
    checkTargets(target, N, C, ignoreIndex);
    this.runtime.rows(
      "crossEntropyBackwardRows",
      N,
      [
        viewPtr(logits),
        viewPtr(target),
        viewPtr(lse),
        viewPtr(dLoss),
        dLoss.strides[0] ?? 0,
        N,
        C,
        ignoreIndex,
        labelSmoothing,
        ptrOf(out),
      ],
      C * 2,
    );
  }

  override adamw(param: BufferHandle, grad: View, m: BufferHandle, v: BufferHandle, p: AdamWParams): void {
    const n = param.size;
    if (!allFloat32(param, grad, m, v) || !isContiguous(grad) || n < 1024) {
      super.adamw(param, grad, m, v, p);
      return;
    }
    const bc1 = 1 - p.beta1 ** p.step;
    const bc2 = 1 - p.beta2 ** p.step;
    this.runtime.rows(
      "adamw",
      n,
      [
        ptrOf(param),
        viewPtr(grad),
        ptrOf(m),
        ptrOf(v),
        n,
        1 - p.lr * p.weightDecay,
        p.beta1,
        p.beta2,
        p.lr / bc1,
        1 / Math.sqrt(bc2),
        p.eps,
      ],
      8,
      4,
    );
  }

  /**
   * Runs a binary op on strided views whose last dim is contiguous in a (stride 1) and contiguous or
   * repeated in b (stride 1 or 0), with at most three other dims after merging; returns false otherwise
   * (the row kernels take no scalar parameters, so callers send ops with parameters elsewhere).
   */
  private binaryRows(op: BinaryOp, a: View, b: View, out: BufferHandle): boolean {
    if (op === "maximum" || op === "minimum") return false;
    let left = a;
    let right = b;
    const n = a.shape.length;
    if (n === 0) return false;
    if (a.strides[n - 1] !== 1 && a.shape[n - 1] !== 1 && COMMUTATIVE.has(op)) [left, right] = [b, a];
    const dims = mergeDims(left.shape, [left.strides, right.strides]);
    if (!dims) return false;
    const [shape, [sa, sb]] = dims;
    const k = shape.length;
    if (k > 4 || (sa[k - 1] !== 1 && shape[k - 1] !== 1) || (sb[k - 1] !== 1 && sb[k - 1] !== 0))
      return false;
    while (shape.length < 4) {
      shape.unshift(1);
      sa.unshift(0);
      sb.unshift(0);
    }
    const L = shape[3];
    const rows = shape[0] * shape[1] * shape[2];
    this.runtime.rows(
      `binaryRows_${op}`,
      rows,
      [
        viewPtr(left),
        viewPtr(right),
        ptrOf(out),
        rows,
        L,
        shape[1],
        shape[2],
        sa[0],
        sa[1],
        sa[2],
        sb[0],
        sb[1],
        sb[2],
        shape[3] === 1 ? 0 : sb[3],
      ],
      L * 2,
    );
    return true;
  }

  override reduce(op: ReduceOp, x: View, axes: readonly number[], out: BufferHandle): void {
    const n = numel(x.shape);
    if ((op !== "sum" && op !== "mean") || !allFloat32(x, out) || !isContiguous(x) || n < 1024) {
      super.reduce(op, x, axes, out);
      return;
    }
    // Split the dims (size 1 ignored) into kept and reduced; fast when the reduced ones are a suffix
    // (row sums) or a prefix (column sums).
    const reduced = x.shape.map((d, i) => d !== 1 && axes.includes(i));
    const kept = x.shape.map((d, i) => d !== 1 && !axes.includes(i));
    const firstKept = kept.indexOf(true);
    const lastKept = kept.lastIndexOf(true);
    const firstReduced = reduced.indexOf(true);
    const lastReduced = reduced.lastIndexOf(true);
    let inner = 1;
    for (let i = 0; i < x.shape.length; i++) if (reduced[i]) inner *= x.shape[i];
    const scale = op === "mean" ? 1 / inner : 1;
    const outer = n / inner;
    if (firstReduced < 0) {
      super.reduce(op, x, axes, out);
      return;
    }
    if (lastKept < firstReduced) {
      this.runtime.rows("sumRows", outer, [viewPtr(x), ptrOf(out), outer, inner, inner, scale], inner);
    } else if (lastReduced < firstKept) {
      this.runtime.rows("sumColumns", outer, [viewPtr(x), ptrOf(out), inner, outer, outer, scale], inner, 4);
    } else {
      super.reduce(op, x, axes, out);
    }
  }

  override copy(src: View, dst: View): void {
    const n = numel(src.shape);
    const merged =
      n >= 1024 && allFloat32(src, dst) ? mergeDims(src.shape, [src.strides, dst.strides]) : null;
    if (!merged) {
      super.copy(src, dst);
      return;
    }
    const [shape, [ss, ds]] = merged;
    const k = shape.length;
    if (k > 4 || ss[k - 1] !== 1 || ds[k - 1] !== 1) {
      super.copy(src, dst);
      return;
    }
    while (shape.length < 4) {
      shape.unshift(1);
      ss.unshift(0);
      ds.unshift(0);
    }
    const rows = shape[0] * shape[1] * shape[2];
    this.runtime.rows(
      "copyRows",
      rows,
      [
        viewPtr(src),
        viewPtr(dst),
        rows,
        shape[3],
        shape[1],
        shape[2],
        ss[0],
        ss[1],
        ss[2],
        ds[0],
        ds[1],
        ds[2],
      ],
      shape[3],
    );
  }

  override softmax(x: View, log: boolean, out: BufferHandle): void {
    const C = x.shape[x.shape.length - 1] ?? 1;
    const n = numel(x.shape);
    if (!allFloat32(x, out) || !isContiguous(x) || C === 0 || n === 0) {
      super.softmax(x, log, out);
      return;
    }
    const rows = n / C;
    const p = ptrOf(x.buffer) + x.offset * 4;
    this.runtime.rows("softmaxRows", rows, [p, ptrOf(out), rows, C, log ? 1 : 0], C * 4);
  }

  override attention(
    q: View,
    k: View,
    v: View,
    mask: View | null,
    options: AttentionOptions,
    out: BufferHandle,
    outLse: BufferHandle,
  ): void {
    if (!allFloat32(q, k, v, mask, out, outLse) || numel(q.shape) === 0 || k.shape[2] === 0) {
      super.attention(q, k, v, mask, options, out, outLse);
      return;
    }
    attentionForward(
      this.runtime,
      ptrOf,
      q,
      k,
      v,
      mask,
      options,
      out,
      (outLse as WasmBuffer).data as Float32Array,
    );
  }

  override attentionBackward(
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
    if (!allFloat32(q, k, v, mask, out, dOut, dq, dk, dv) || numel(q.shape) === 0 || k.shape[2] === 0) {
      super.attentionBackward(q, k, v, mask, options, out, lse, dOut, dq, dk, dv);
      return;
    }
    attentionBackward(this.runtime, ptrOf, q, k, v, mask, options, out, dOut, dq, dk, dv);
  }
}

/** Resolves to the fast CPU backend; rejects with the reason where WebAssembly SIMD or threads are missing. */
export async function createBackend(options: BackendInitOptions = {}): Promise<WasmCpuBackend> {
  const threads = typeof options.threads === "number" ? options.threads : undefined;
  return new WasmCpuBackend(await WasmRuntime.create({ threads }));
}
