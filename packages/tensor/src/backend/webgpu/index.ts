/// <reference types="@webgpu/types" />
import {
  type AdamWParams,
  type AttentionOptions,
  type Backend,
  type BinaryOp,
  type BufferHandle,
  type DType,
  matrixLayout,
  numel,
  type ReduceOp,
  type TypedArray,
  type UnaryOp,
  type View,
} from "../backend.js";
import { foldInto, type RowView, rowView, runInRowChunks, tooBig } from "./chunked.js";
import type { AdapterReport, MatmulVariant } from "./device.js";
import { runAdamW } from "./kernels/adamw.js";
import { runAttention, runAttentionBackward } from "./kernels/attention.js";
import {
  runComposedAttention,
  runComposedAttentionBackward,
  useComposedAttention,
} from "./kernels/attention-composed.js";
import { dummyBinding } from "./kernels/common.js";
import { runElementwise } from "./kernels/elementwise.js";
import { runGather, runScatterAdd } from "./kernels/indexing.js";
import { runMatmul } from "./kernels/matmul.js";
import { runNorm, runNormBackward } from "./kernels/norm.js";
import { runReduce } from "./kernels/reduce.js";
import { runRope } from "./kernels/rope.js";
import {
  runCrossEntropy,
  runCrossEntropyBackward,
  runSoftmax,
  runSoftmaxBackward,
} from "./kernels/softmax.js";
import { GpuRuntime } from "./runtime.js";
import { contiguousStrides, type GpuDtype, type GpuView } from "./view.js";

export type { AdapterReport } from "./device.js";

/** A WebGPU buffer handle: one 32-bit word per element (bool as u32 0/1). */
export interface GpuBufferHandle extends BufferHandle {
  readonly gpu: GPUBuffer;
  released: boolean;
}

/** Options of `createBackend` (from `init({ device: "webgpu", ... })`). */
export interface WebGpuBackendOptions {
  powerPreference?: GPUPowerPreference;
  matmulVariant?: MatmulVariant;
  /** Cap storage bindings below the adapter's limit (see `AcquireOptions.maxBindingBytes`). */
  maxBindingBytes?: number;
  /** Request timestamp queries so `runtime.startProfile()` can time kernels. */
  profile?: boolean;
  [key: string]: unknown;
}

function gpuDtype(dtype: DType, op: string): GpuDtype {
  if (dtype === "float64") throw new Error(`webgpu: ${op}: float64 is not supported on WebGPU (use float32)`);
  return dtype;
}

/** The WebGPU backend: every op of the Backend interface as WGSL kernels. */
export class WebGpuBackend implements Backend {
  readonly name = "webgpu";
  readonly device = "webgpu" as const;
  readonly supportsFloat64 = false;

  /**
   * Which attention kernels run: "fused" (online softmax, one invocation per row), "composed"
   * (batched matmuls and row kernels), or "auto" (composed on CPU-like adapters while the score
   * matrix stays under 64 MiB, fused otherwise).
   */
  attentionPath: "auto" | "fused" | "composed" = "auto";

  constructor(readonly runtime: GpuRuntime) {}

  private composed(a: Parameters<typeof useComposedAttention>[1]): boolean {
    if (this.attentionPath === "fused") return false;
    if (this.attentionPath === "composed") return a.q.shape[3] > 0 && a.k.shape[2] > 0 && a.q.shape[2] > 0;
    return useComposedAttention(this.runtime, a);
  }

  /** Returns what was found about the adapter (vendor, software fallback, limits). */
  get adapter(): AdapterReport {
    return this.runtime.ctx.adapter;
  }

  private h(b: BufferHandle, op: string): GpuBufferHandle {
    const g = b as GpuBufferHandle;
    if (!g.gpu) throw new Error(`webgpu: ${op}: the buffer does not belong to the webgpu backend`);
    if (g.released) throw new Error(`webgpu: ${op}: the buffer was released`);
    return g;
  }

  private view(v: View, op: string): GpuView {
    const h = this.h(v.buffer, op);
    return {
      buffer: h.gpu,
      offset: v.offset,
      shape: v.shape,
      strides: v.strides,
      dtype: gpuDtype(h.dtype, op),
    };
  }

  private outView(b: BufferHandle, shape: readonly number[], op: string): GpuView {
    const h = this.h(b, op);
    return {
      buffer: h.gpu,
      offset: 0,
      shape,
      strides: contiguousStrides(shape),
      dtype: gpuDtype(h.dtype, op),
    };
  }

  /** Returns a scratch buffer of `n` floats; give it back with `this.runtime.pool.release`. */
  private scratch(n: number): GPUBuffer {
    return this.runtime.pool.acquire(Math.max(n, 1) * 4);
  }

  /** Row views (leading `lead` dims merged) of an op's operands, to run it in chunks of rows. */
  private rowViews(op: string, views: readonly [GpuView, number][]): RowView[] {
    return views.map(([v, lead]) => {
      const r = rowView(v, lead);
      if (!r) {
        throw new Error(
          `webgpu: ${op}: an operand larger than one binding must keep its leading dims in one stride to be split`,
        );
      }
      return r;
    });
  }

  /**
   * Reduces a view larger than one binding in chunks along its first dim (size-1 dims dropped):
   * chunks write their own output rows, or, when that dim is reduced, fold into one result.
   */
  private reduceChunked(
    op: ReduceOp | "argmax" | "argmin",
    x: GpuView,
    axes: readonly number[],
    out: GpuView,
  ): void {
    const keep = x.shape.map((_n, d) => d).filter((d) => x.shape[d] !== 1);
    const sq: GpuView = { ...x, shape: keep.map((d) => x.shape[d]), strides: keep.map((d) => x.strides[d]) };
    const ax = keep.map((d, i) => (axes.includes(d) ? i : -1)).filter((i) => i >= 0);
    const [r] = this.rowViews(op, [[sq, 1]]);
    const rt = this.runtime;
    const chunkOut = (k: number) => sq.shape.map((n, d) => (ax.includes(d) ? 1 : d === 0 ? k : n));
    if (!ax.includes(0)) {
      const rowWords = numel(out.shape) / sq.shape[0];
      runInRowChunks(rt, op, sq.shape[0], [r], [{ buffer: out.buffer, rowWords }], (v, o, k) =>
        runReduce(rt, op, v[0], ax, {
          ...out,
          buffer: o[0],
          shape: chunkOut(k),
          strides: contiguousStrides(chunkOut(k)),
        }),
      );
      return;
    }
    if (op === "argmax" || op === "argmin") {
      throw new Error(
        `webgpu: ${op}: along the first dim of a tensor larger than one binding is not supported`,
      );
    }
    const words = numel(out.shape);
    const fold = { sum: "add", mean: "add", max: "max", min: "min", prod: "mul" } as const;
    const part = op === "mean" ? "sum" : op;
    runInRowChunks(
      rt,
      op,
      sq.shape[0],
      [r],
      [{ buffer: out.buffer, rowWords: 0, words, fold: (acc, p, n) => foldInto(rt, fold[op], acc, p, n) }],
      (v, o, k) =>
        runReduce(rt, part, v[0], ax, {
          ...out,
          buffer: o[0],
          shape: chunkOut(k),
          strides: contiguousStrides(chunkOut(k)),
        }),
    );
    if (op === "mean") {
      const count = ax.reduce((n, d) => n * sq.shape[d], 1);
      foldInto(rt, "scale", out.buffer, null, words, 1 / count);
    }
  }

  allocate(size: number, dtype: DType): BufferHandle {
    gpuDtype(dtype, "allocate");
    const gpu = this.runtime.pool.acquire(Math.max(size, 1) * 4);
    const h: GpuBufferHandle = { dtype, size, gpu, released: false };
    return h;
  }

  release(buffer: BufferHandle): void {
    const h = this.h(buffer, "release");
    h.released = true;
    this.runtime.pool.release(h.gpu);
  }

  write(buffer: BufferHandle, data: TypedArray, offset = 0): void {
    const h = this.h(buffer, "write");
    let words: ArrayBufferView;
    if (h.dtype === "bool") {
      const u = new Uint32Array(data.length);
      for (let i = 0; i < data.length; i++) u[i] = data[i] ? 1 : 0;
      words = u;
    } else if (h.dtype === "float32") {
      words = data instanceof Float32Array ? data : Float32Array.from(data as ArrayLike<number>);
    } else {
      words = data instanceof Int32Array ? data : Int32Array.from(data as ArrayLike<number>);
    }
    if (offset + data.length > h.size) {
      throw new Error(
        `webgpu: write: ${data.length} elements at offset ${offset} overflow a buffer of ${h.size}`,
      );
    }
    this.runtime.write(h.gpu, offset * 4, words);
  }

  async read(buffer: BufferHandle, offset = 0, length?: number): Promise<TypedArray> {
    const h = this.h(buffer, "read");
    const n = length ?? h.size - offset;
    const bytes = await this.runtime.read(h.gpu, offset * 4, n * 4);
    if (h.dtype === "float32") return new Float32Array(bytes);
    if (h.dtype === "int32") return new Int32Array(bytes);
    const u = new Uint32Array(bytes);
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = u[i] ? 1 : 0;
    return out;
  }

  memoryInfo(): { bytesInUse: number; bytesAllocated: number } {
    const s = this.runtime.memory();
    return { bytesInUse: s.bytesInUse, bytesAllocated: s.bytesAllocated };
  }

  sync(): Promise<void> {
    return this.runtime.sync();
  }

  dispose(): void {
    this.runtime.destroy();
  }

  fill(dst: View, value: number): void {
    runElementwise(this.runtime, "fill", [], this.view(dst, "fill"), { s0: value });
  }

  copy(src: View, dst: View): void {
    runElementwise(this.runtime, "identity", [this.view(src, "copy")], this.view(dst, "copy"));
  }

  unary(op: UnaryOp, x: View, out: BufferHandle, param?: readonly number[]): void {
    const xv = this.view(x, op);
    runElementwise(this.runtime, op, [xv], this.outView(out, x.shape, op), {
      s0: param?.[0],
      s1: param?.[1],
    });
  }

  binary(op: BinaryOp, a: View, b: View, out: BufferHandle, param?: readonly number[]): void {
    runElementwise(this.runtime, op, [this.view(a, op), this.view(b, op)], this.outView(out, a.shape, op), {
      s0: param?.[0],
      s1: param?.[1],
    });
  }

  where(cond: View, a: View, b: View, out: BufferHandle): void {
    runElementwise(
      this.runtime,
      "where",
      [this.view(cond, "where"), this.view(a, "where"), this.view(b, "where")],
      this.outView(out, a.shape, "where"),
    );
  }

  reduce(op: ReduceOp, x: View, axes: readonly number[], out: BufferHandle): void {
    const outShape = x.shape.map((n, d) => (axes.includes(d) ? 1 : n));
    const xv = this.view(x, op);
    const ov = this.outView(out, outShape, op);
    if (tooBig(this.runtime, xv.buffer, ov.buffer)) this.reduceChunked(op, xv, axes, ov);
    else runReduce(this.runtime, op, xv, axes, ov);
  }

  argReduce(op: "argmax" | "argmin", x: View, axis: number, out: BufferHandle): void {
    const outShape = x.shape.map((n, d) => (d === axis ? 1 : n));
    const xv = this.view(x, op);
    const ov = this.outView(out, outShape, op);
    if (tooBig(this.runtime, xv.buffer, ov.buffer)) this.reduceChunked(op, xv, [axis], ov);
    else runReduce(this.runtime, op, xv, [axis], ov);
  }

  matmul(a: View, b: View, out: BufferHandle): void {
    const n = a.shape.length;
    const M = a.shape[n - 2];
    const K = a.shape[n - 1];
    const N = b.shape[b.shape.length - 1];
    const batchShape = a.shape.slice(0, -2);
    const o = this.h(out, "matmul");
    if (K === 0) {
      this.fill({ buffer: out, shape: [numel(batchShape) * M * N], strides: [1], offset: 0 }, 0);
      return;
    }
    const la = matrixLayout(a);
    const lb = matrixLayout(b);
    if (!la || !lb)
      throw new Error(`webgpu: matmul: operands [${a.shape}] and [${b.shape}] are not matrix layouts`);
    const operand = (v: View, l: { transposed: boolean; ld: number }) => ({
      buffer: this.h(v.buffer, "matmul").gpu,
      offset: v.offset,
      rs: l.transposed ? 1 : l.ld,
      cs: l.transposed ? l.ld : 1,
      batchStrides: v.strides.slice(0, -2).map((s, d) => (v.shape[d] === 1 ? 0 : s)),
    });
    runMatmul(this.runtime, operand(a, la), operand(b, lb), o.gpu, M, N, K, batchShape);
  }

  indexSelect(x: View, index: View, dim: number, out: BufferHandle): void {
    const outShape = x.shape.map((n, d) => (d === dim ? index.shape[0] : n));
    runGather(
      this.runtime,
      this.view(x, "indexSelect"),
      this.view(index, "indexSelect"),
      dim,
      true,
      this.h(out, "indexSelect").gpu,
      outShape,
    );
  }

  indexAdd(dst: BufferHandle, dstShape: readonly number[], index: View, src: View, dim: number): void {
    const d = this.h(dst, "indexAdd");
    runScatterAdd(
      this.runtime,
      d.gpu,
      dstShape,
      d.dtype === "int32" ? "int32" : "float32",
      this.view(index, "indexAdd"),
      this.view(src, "indexAdd"),
      dim,
      true,
    );
  }

  gather(x: View, index: View, dim: number, out: BufferHandle): void {
    runGather(
      this.runtime,
      this.view(x, "gather"),
      this.view(index, "gather"),
      dim,
      false,
      this.h(out, "gather").gpu,
      index.shape,
    );
  }

  scatterAdd(dst: BufferHandle, dstShape: readonly number[], index: View, src: View, dim: number): void {
    const d = this.h(dst, "scatterAdd");
    runScatterAdd(
      this.runtime,
      d.gpu,
      dstShape,
      d.dtype === "int32" ? "int32" : "float32",
      this.view(index, "scatterAdd"),
      this.view(src, "scatterAdd"),
      dim,
      false,
    );
  }

  rope(x: View, cos: View, sin: View, inverse: boolean, out: BufferHandle): void {
    const rt = this.runtime;
    const [xv, cv, sv] = [x, cos, sin].map((v) => this.view(v, "rope"));
    const o = this.h(out, "rope").gpu;
    if (!tooBig(rt, xv.buffer, cv.buffer, sv.buffer, o)) {
      runRope(rt, xv, cv, sv, inverse, o);
      return;
    }
    // rows over as many leading dims as every operand merges (broadcast tables may merge fewer)
    let lead = x.shape.length - 1;
    while (lead > 1 && [xv, cv, sv].some((v) => !rowView(v, lead))) lead--;
    const rows = this.rowViews("rope", [
      [xv, lead],
      [cv, lead],
      [sv, lead],
    ]);
    const rowWords = rows[0].rows === 0 ? 0 : numel(x.shape) / rows[0].rows;
    runInRowChunks(rt, "rope", rows[0].rows, rows, [{ buffer: o, rowWords }], (v, c) =>
      runRope(rt, v[0], v[1], v[2], inverse, c[0]),
    );
  }

  softmax(x: View, log: boolean, out: BufferHandle): void {
    const rt = this.runtime;
    const xv = this.view(x, "softmax");
    const o = this.h(out, "softmax").gpu;
    if (!tooBig(rt, xv.buffer, o)) {
      runSoftmax(rt, xv, log, o);
      return;
    }
    const rows = this.rowViews("softmax", [[xv, x.shape.length - 1]]);
    const C = x.shape[x.shape.length - 1] ?? 1;
    runInRowChunks(rt, "softmax", rows[0].rows, rows, [{ buffer: o, rowWords: C }], (v, outs) =>
      runSoftmax(rt, v[0], log, outs[0]),
    );
  }

  softmaxBackward(y: View, dy: View, log: boolean, out: BufferHandle): void {
    const rt = this.runtime;
    const yv = this.view(y, "softmaxBackward");
    const gv = this.view(dy, "softmaxBackward");
    const o = this.h(out, "softmaxBackward").gpu;
    if (!tooBig(rt, yv.buffer, gv.buffer, o)) {
      runSoftmaxBackward(rt, yv, gv, log, o);
      return;
    }
    const lead = y.shape.length - 1;
    const rows = this.rowViews("softmaxBackward", [
      [yv, lead],
      [gv, lead],
    ]);
    const C = y.shape[lead] ?? 1;
    runInRowChunks(rt, "softmaxBackward", rows[0].rows, rows, [{ buffer: o, rowWords: C }], (v, outs) =>
      runSoftmaxBackward(rt, v[0], v[1], log, outs[0]),
    );
  }

  crossEntropy(
    logits: View,
    target: View,
    ignoreIndex: number,
    labelSmoothing: number,
    outLoss: BufferHandle,
    outLse: BufferHandle,
  ): void {
    const rt = this.runtime;
    const lv = this.view(logits, "crossEntropy");
    const tv = this.view(target, "crossEntropy");
    const [ol, os] = [outLoss, outLse].map((b) => this.h(b, "crossEntropy").gpu);
    if (!tooBig(rt, lv.buffer, tv.buffer, ol, os)) {
      runCrossEntropy(rt, lv, tv, ignoreIndex, labelSmoothing, ol, os);
      return;
    }
    const rows = this.rowViews("crossEntropy", [
      [lv, logits.shape.length - 1],
      [tv, target.shape.length],
    ]);
    const outs = [ol, os].map((buffer) => ({ buffer, rowWords: 1 }));
    runInRowChunks(rt, "crossEntropy", rows[0].rows, rows, outs, (v, o) =>
      runCrossEntropy(rt, v[0], v[1], ignoreIndex, labelSmoothing, o[0], o[1]),
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
    const rt = this.runtime;
    const op = "crossEntropyBackward";
    const [lv, tv, sv, dv] = [logits, target, lse, dLoss].map((v) => this.view(v, op));
    const o = this.h(out, op).gpu;
    const scratch = this.scratch(1);
    if (!tooBig(rt, lv.buffer, tv.buffer, sv.buffer, dv.buffer, o)) {
      runCrossEntropyBackward(rt, lv, tv, sv, dv, ignoreIndex, labelSmoothing, o, scratch);
    } else {
      const rows = this.rowViews(op, [
        [lv, logits.shape.length - 1],
        [tv, target.shape.length],
        [sv, lse.shape.length],
        [dv, dLoss.shape.length],
      ]);
      const C = logits.shape[logits.shape.length - 1] ?? 1;
      runInRowChunks(rt, op, rows[0].rows, rows, [{ buffer: o, rowWords: C }], (v, outs) =>
        runCrossEntropyBackward(rt, v[0], v[1], v[2], v[3], ignoreIndex, labelSmoothing, outs[0], scratch),
      );
    }
    rt.pool.release(scratch);
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
    const rt = this.runtime;
    const xv = this.view(x, "norm");
    const wv = weight && this.view(weight, "norm");
    const bv = bias && this.view(bias, "norm");
    const [o, om, or] = [out, outMean, outRstd].map((b) => this.h(b, "norm").gpu);
    if (!tooBig(rt, xv.buffer, o, om, or)) {
      runNorm(rt, xv, wv, bv, eps, rms, { out: o, out2: om, out3: or });
      return;
    }
    const rows = this.rowViews("norm", [[xv, x.shape.length - 1]]);
    const D = x.shape[x.shape.length - 1] ?? 1;
    // RMSNorm may pass a 1-element mean buffer: then each chunk writes its means to scratch
    const meanRows = om.size >= rows[0].rows * 4;
    const outs = [
      { buffer: o, rowWords: D },
      { buffer: or, rowWords: 1 },
      ...(meanRows ? [{ buffer: om, rowWords: 1 }] : []),
    ];
    const scratch = meanRows ? null : this.scratch(rows[0].rows);
    runInRowChunks(rt, "norm", rows[0].rows, rows, outs, (v, c) =>
      runNorm(rt, v[0], wv, bv, eps, rms, { out: c[0], out2: c[2] ?? (scratch as GPUBuffer), out3: c[1] }),
    );
    if (scratch) rt.pool.release(scratch);
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
    const rt = this.runtime;
    const op = "normBackward";
    const D = x.shape[x.shape.length - 1];
    const tmpW = dWeight ? null : this.scratch(D);
    const tmpB = dBias ? null : this.scratch(D);
    const [xv, mv, sv, gv] = [x, mean, rstd, dy].map((v) => this.view(v, op));
    const wv = weight && this.view(weight, op);
    const o = this.h(dx, op).gpu;
    const o2 = dWeight ? this.h(dWeight, op).gpu : (tmpW as GPUBuffer);
    const o3 = dBias ? this.h(dBias, op).gpu : (tmpB as GPUBuffer);
    const affine = !!(dWeight || dBias);
    if (!tooBig(rt, xv.buffer, mv.buffer, sv.buffer, gv.buffer, o)) {
      runNormBackward(rt, xv, wv, mv, sv, gv, rms, { out: o, out2: o2, out3: o3 }, affine);
    } else {
      const rowsOf = numel(x.shape.slice(0, -1));
      // RMSNorm's mean is unused and may be a single element: then it passes through whole
      const meanRows = numel(mean.shape) === rowsOf;
      const rows = this.rowViews(op, [
        [xv, x.shape.length - 1],
        [meanRows ? mv : sv, (meanRows ? mean : rstd).shape.length],
        [sv, rstd.shape.length],
        [gv, dy.shape.length - 1],
      ]);
      // dx by rows; the weight and bias gradients sum over every chunk's rows
      const add = (acc: GPUBuffer, part: GPUBuffer, n: number) => foldInto(rt, "add", acc, part, n);
      const outs = [
        { buffer: o, rowWords: D },
        { buffer: o2, rowWords: 0, words: D, fold: add },
        { buffer: o3, rowWords: 0, words: D, fold: add },
      ];
      runInRowChunks(rt, op, rows[0].rows, rows, outs, (v, c) =>
        runNormBackward(
          rt,
          v[0],
          wv,
          meanRows ? v[1] : mv,
          v[2],
          v[3],
          rms,
          { out: c[0], out2: c[1], out3: c[2] },
          affine,
        ),
      );
    }
    if (tmpW) rt.pool.release(tmpW);
    if (tmpB) rt.pool.release(tmpB);
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
    const rt = this.runtime;
    const inputs = {
      q: this.view(q, "attention"),
      k: this.view(k, "attention"),
      v: this.view(v, "attention"),
      mask: mask && this.view(mask, "attention"),
      scale: options.scale,
      causal: options.causal,
    };
    const o = this.h(out, "attention").gpu;
    const l = this.h(outLse, "attention").gpu;
    const run = (a: typeof inputs, o: GPUBuffer, l: GPUBuffer) => {
      if (this.composed(a)) runComposedAttention(rt, a, o, l);
      else runAttention(rt, a, o, l, dummyBinding(rt));
    };
    if (!tooBig(rt, inputs.q.buffer, inputs.k.buffer, inputs.v.buffer, inputs.mask?.buffer, o, l)) {
      run(inputs, o, l);
      return;
    }
    const split = this.attentionSplit("attention", inputs, []);
    const Lq = q.shape[2];
    const D = q.shape[3];
    const outs = [
      { buffer: o, rowWords: split.headsPerRow * Lq * D },
      { buffer: l, rowWords: split.headsPerRow * Lq },
    ];
    runInRowChunks(rt, "attention", split.rows[0].rows, split.rows, outs, (views, c) =>
      run(split.inputs(views), c[0], c[1]),
    );
  }

  /**
   * Row views to run attention past one binding in chunks: by batch, or by batch·head when no mask
   * and no grouped heads; `inputs(views)` rebuilds the 4-D operands of a chunk (and `extra` views).
   */
  private attentionSplit(
    op: string,
    a: { q: GpuView; k: GpuView; v: GpuView; mask: GpuView | null; scale: number; causal: boolean },
    extra: readonly GpuView[],
  ) {
    const byHead = !a.mask && a.q.shape[1] === a.k.shape[1];
    const lead = byHead ? 2 : 1;
    const views = [a.q, a.k, a.v, ...extra, ...(a.mask ? [a.mask] : [])];
    const rows = this.rowViews(
      op,
      views.map((v) => [v, v === a.mask ? 1 : Math.min(lead, v.shape.length)] as [GpuView, number]),
    );
    const four = (v: GpuView): GpuView =>
      byHead && v.shape.length === 3
        ? {
            ...v,
            shape: [v.shape[0], 1, ...v.shape.slice(1)],
            strides: [v.strides[0], 0, ...v.strides.slice(1)],
          }
        : byHead && v.shape.length === 2
          ? { ...v, shape: [v.shape[0], 1, v.shape[1]], strides: [v.strides[0], 0, v.strides[1]] }
          : v;
    return {
      rows,
      headsPerRow: byHead ? 1 : a.q.shape[1],
      kvHeadsPerRow: byHead ? 1 : a.k.shape[1],
      inputs: (c: GpuView[]) => ({
        q: four(c[0]),
        k: four(c[1]),
        v: four(c[2]),
        mask: a.mask ? c[c.length - 1] : null,
        scale: a.scale,
        causal: a.causal,
        extra: c.slice(3, 3 + extra.length).map(four),
      }),
    };
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
    const rt = this.runtime;
    const op = "attentionBackward";
    const inputs = {
      q: this.view(q, op),
      k: this.view(k, op),
      v: this.view(v, op),
      mask: mask && this.view(mask, op),
      scale: options.scale,
      causal: options.causal,
    };
    const [gq, gk, gv] = [dq, dk, dv].map((b) => this.h(b, op).gpu);
    const ov = this.view(out, op);
    const lv = this.view(lse, op);
    const dO = this.view(dOut, op);
    const run = (a: typeof inputs, o: GpuView, l: GpuView, d: GpuView, g: GPUBuffer[]) => {
      if (this.composed(a)) {
        runComposedAttentionBackward(rt, a, d, g[0], g[1], g[2]);
        return;
      }
      const scratch = this.scratch(2 * numel(a.q.shape.slice(0, 3)));
      runAttentionBackward(rt, a, o, l, d, g[0], g[1], g[2], scratch, dummyBinding(rt));
      rt.pool.release(scratch);
    };
    const all = [inputs.q, inputs.k, inputs.v, inputs.mask, ov, lv, dO].map((x) => x?.buffer);
    if (!tooBig(rt, ...all, gq, gk, gv)) {
      run(inputs, ov, lv, dO, [gq, gk, gv]);
      return;
    }
    // lse is [B, H, Lq]: one dim short of the others, which `attentionSplit` pads back
    const split = this.attentionSplit(op, inputs, [ov, lv, dO]);
    const [Lq, D, Lk] = [q.shape[2], q.shape[3], k.shape[2]];
    const outs = [
      { buffer: gq, rowWords: split.headsPerRow * Lq * D },
      { buffer: gk, rowWords: split.kvHeadsPerRow * Lk * D },
      { buffer: gv, rowWords: split.kvHeadsPerRow * Lk * v.shape[3] },
    ];
    runInRowChunks(rt, op, split.rows[0].rows, split.rows, outs, (views, c) => {
      const a = split.inputs(views);
      run(a, a.extra[0], a.extra[1], a.extra[2], c);
    });
  }

  adamw(param: BufferHandle, grad: View, m: BufferHandle, v: BufferHandle, p: AdamWParams): void {
    const ph = this.h(param, "adamw");
    let g = this.view(grad, "adamw");
    let tmp: GPUBuffer | null = null;
    const contiguous = g.strides.every((s, d) => g.shape[d] === 1 || s === contiguousStrides(g.shape)[d]);
    if (!contiguous) {
      tmp = this.scratch(ph.size);
      const t: GpuView = {
        buffer: tmp,
        offset: 0,
        shape: g.shape,
        strides: contiguousStrides(g.shape),
        dtype: "float32",
      };
      runElementwise(this.runtime, "identity", [g], t);
      g = t;
    }
    runAdamW(
      this.runtime,
      ph.gpu,
      g.buffer,
      g.offset,
      this.h(m, "adamw").gpu,
      this.h(v, "adamw").gpu,
      ph.size,
      p,
    );
    if (tmp) this.runtime.pool.release(tmp);
  }
}

/** Returns a WebGPU backend on the best adapter, or throws saying why there is none. */
export async function createBackend(options: WebGpuBackendOptions = {}): Promise<WebGpuBackend> {
  const runtime = await GpuRuntime.create({
    powerPreference: options.powerPreference,
    matmulVariant: options.matmulVariant,
    maxBindingBytes: options.maxBindingBytes,
    profile: options.profile ?? (typeof process !== "undefined" && process.env?.SR2SE_WEBGPU_PROFILE === "1"),
  });
  return new WebGpuBackend(runtime);
}
