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
    const name = op.endsWith("Grad") ? `${op.slice(0, -4)}.grad0` : op;
    runElementwise(this.runtime, name, [this.view(a, op), this.view(b, op)], this.outView(out, a.shape, op), {
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
    runReduce(this.runtime, op, this.view(x, op), axes, this.outView(out, outShape, op));
  }

  argReduce(op: "argmax" | "argmin", x: View, axis: number, out: BufferHandle): void {
    const outShape = x.shape.map((n, d) => (d === axis ? 1 : n));
    runReduce(this.runtime, op, this.view(x, op), [axis], this.outView(out, outShape, op));
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

  softmax(x: View, log: boolean, out: BufferHandle): void {
    runSoftmax(this.runtime, this.view(x, "softmax"), log, this.h(out, "softmax").gpu);
  }

  softmaxBackward(y: View, dy: View, log: boolean, out: BufferHandle): void {
    runSoftmaxBackward(
      this.runtime,
      this.view(y, "softmaxBackward"),
      this.view(dy, "softmaxBackward"),
      log,
      this.h(out, "softmaxBackward").gpu,
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
    runCrossEntropy(
      this.runtime,
      this.view(logits, "crossEntropy"),
      this.view(target, "crossEntropy"),
      ignoreIndex,
      labelSmoothing,
      this.h(outLoss, "crossEntropy").gpu,
      this.h(outLse, "crossEntropy").gpu,
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
    const scratch = this.scratch(1);
    runCrossEntropyBackward(
      this.runtime,
      this.view(logits, "crossEntropyBackward"),
      this.view(target, "crossEntropyBackward"),
      this.view(lse, "crossEntropyBackward"),
      this.view(dLoss, "crossEntropyBackward"),
      ignoreIndex,
      labelSmoothing,
      this.h(out, "crossEntropyBackward").gpu,
      scratch,
    );
    this.runtime.pool.release(scratch);
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
    runNorm(
      this.runtime,
      this.view(x, "norm"),
      weight && this.view(weight, "norm"),
      bias && this.view(bias, "norm"),
      eps,
      rms,
      { out: this.h(out, "norm").gpu, out2: this.h(outMean, "norm").gpu, out3: this.h(outRstd, "norm").gpu },
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
    const D = x.shape[x.shape.length - 1];
    const tmpW = dWeight ? null : this.scratch(D);
    const tmpB = dBias ? null : this.scratch(D);
    runNormBackward(
      this.runtime,
      this.view(x, "normBackward"),
      weight && this.view(weight, "normBackward"),
      this.view(mean, "normBackward"),
      this.view(rstd, "normBackward"),
      this.view(dy, "normBackward"),
      rms,
      {
        out: this.h(dx, "normBackward").gpu,
        out2: dWeight ? this.h(dWeight, "normBackward").gpu : (tmpW as GPUBuffer),
        out3: dBias ? this.h(dBias, "normBackward").gpu : (tmpB as GPUBuffer),
      },
      !!(dWeight || dBias),
    );
    if (tmpW) this.runtime.pool.release(tmpW);
    if (tmpB) this.runtime.pool.release(tmpB);
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
    if (this.composed(inputs)) runComposedAttention(this.runtime, inputs, o, l);
    else runAttention(this.runtime, inputs, o, l, dummyBinding(this.runtime));
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
    const inputs = {
      q: this.view(q, "attentionBackward"),
      k: this.view(k, "attentionBackward"),
      v: this.view(v, "attentionBackward"),
      mask: mask && this.view(mask, "attentionBackward"),
      scale: options.scale,
      causal: options.causal,
    };
    const [gq, gk, gv] = [dq, dk, dv].map((b) => this.h(b, "attentionBackward").gpu);
    const dO = this.view(dOut, "attentionBackward");
    if (this.composed(inputs)) {
      runComposedAttentionBackward(this.runtime, inputs, dO, gq, gk, gv);
      return;
    }
    const rows = numel(q.shape.slice(0, 3));
    const scratch = this.scratch(2 * rows);
    runAttentionBackward(
      this.runtime,
      inputs,
      this.view(out, "attentionBackward"),
      this.view(lse, "attentionBackward"),
      dO,
      gq,
      gk,
      gv,
      scratch,
      dummyBinding(this.runtime),
    );
    this.runtime.pool.release(scratch);
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
    profile: options.profile ?? (typeof process !== "undefined" && process.env?.SR2SE_WEBGPU_PROFILE === "1"),
  });
  return new WebGpuBackend(runtime);
}
