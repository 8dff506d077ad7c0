/// <reference types="@webgpu/types" />
import { type AcquireOptions, acquireDevice, type GpuContext } from "./device.js";
import { BufferPool, type PoolStats } from "./pool.js";

/** A compute kernel: a structural cache key and the WGSL it stands for (generated on first use). */
export interface Kernel {
  key: string;
  code: () => string;
  /** Names one dispatch in profiles (e.g. the elementwise op), from its parameters. */
  label?: (params: Uint32Array) => string;
}

/** A storage binding: a whole buffer or a byte sub-range of it. */
export interface Binding {
  buffer: GPUBuffer;
  offset?: number;
  size?: number;
}

/** Size of one dispatch's parameter block (a uniform of 64 u32 words). */
export const PARAM_WORDS = 64;
const PARAM_BYTES = PARAM_WORDS * 4;
const ARENA_BYTES = 64 * 1024;
/** Dispatches recorded before the batch is submitted, so the GPU starts while we keep encoding. */
const DISPATCHES_PER_SUBMIT = 384;
/** Bytes of released buffers the pool keeps for reuse before destroying them. */
const MAX_FREE_BYTES = 1 << 30;

/**
 * The WebGPU executor: pipelines cached by structural key, dispatches batched into one compute pass
 * per submit, parameters packed into reused uniform arenas, buffers and staging buffers pooled.
 */
export class GpuRuntime {
  readonly device: GPUDevice;
  readonly pool: BufferPool;
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private readonly layouts = new Map<string, GPUBindGroupLayout>();
  private readonly groups = new Map<string, GPUBindGroup>();
  private readonly ids = new WeakMap<GPUBuffer, number>();
  private nextId = 1;
  /** Keys of the pipelines dispatched since `resetPipelineUse()`: how many shaders a step needs. */
  readonly pipelinesUsed = new Set<string>();
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private recorded = 0;
  private readonly arenas: GPUBuffer[] = [];
  private arenaData = new Uint32Array(ARENA_BYTES / 4);
  private arenaIndex = 0;
  private arenaOffset = 0;
  private readonly paramStride: number;
  private readonly stagingFree = new Map<number, GPUBuffer[]>();
  /** GPU nanoseconds and dispatch counts per kernel key, when profiling (`startProfile`). */
  private profiling: {
    set: GPUQuerySet;
    keys: string[];
    buf: GPUBuffer;
    totals: Map<string, { n: number; ns: number }>;
    reads: Promise<void>[];
  } | null = null;
  /** Counters for benchmarks: submits and dispatches since creation. */
  readonly counters = { submits: 0, dispatches: 0, readbacks: 0 };

  private constructor(readonly ctx: GpuContext) {
    this.device = ctx.device;
    const lim = ctx.adapter.limits;
    this.paramStride = Math.max(PARAM_BYTES, lim.minUniformBufferOffsetAlignment);
    this.pool = new BufferPool(
      this.device,
      GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
      MAX_FREE_BYTES,
      lim.maxBufferSize,
    );
    this.pool.onDestroy = () => this.forgetBindGroups();
  }

  /** Returns a runtime on a freshly acquired device. */
  static async create(opts: AcquireOptions = {}): Promise<GpuRuntime> {
    return new GpuRuntime(await acquireDevice(opts));
  }

  /** Largest byte range one storage binding may cover on this device. */
  get maxBinding(): number {
    return this.ctx.adapter.limits.maxStorageBufferBindingSize;
  }

  /** Byte alignment a storage binding's offset needs. */
  get bindAlign(): number {
    return this.ctx.adapter.limits.minStorageBufferOffsetAlignment;
  }

  /** Throws the device's first fatal error, if any. */
  check(): void {
    if (this.ctx.fatal) throw this.ctx.fatal;
  }

  /** Returns the compiled pipeline for `kernel`, compiling it on first use. */
  pipeline(kernel: Kernel): GPUComputePipeline {
    let p = this.pipelines.get(kernel.key);
    if (!p) {
      const code = kernel.code();
      const module = this.device.createShaderModule({ code, label: kernel.key });
      // An explicit layout: the parameter uniform takes a dynamic offset, so a bind group depends
      // only on the buffers and can be reused from step to step.
      const entries: GPUBindGroupLayoutEntry[] = [
        {
          binding: 0,
          visibility: GPUShaderStage.COMPUTE,
          buffer: { type: "uniform", hasDynamicOffset: true },
        },
      ];
      for (const m of code.matchAll(/@binding\((\d+)\)\s*var<storage,\s*(read_write|read)>/g)) {
        entries.push({
          binding: Number(m[1]),
          visibility: GPUShaderStage.COMPUTE,
          buffer: { type: m[2] === "read" ? "read-only-storage" : "storage" },
        });
      }
      const bindGroupLayout = this.device.createBindGroupLayout({ entries, label: kernel.key });
      this.layouts.set(kernel.key, bindGroupLayout);
      p = this.device.createComputePipeline({
        layout: this.device.createPipelineLayout({ bindGroupLayouts: [bindGroupLayout] }),
        compute: { module, entryPoint: "main" },
        label: kernel.key,
      });
      this.pipelines.set(kernel.key, p);
    }
    return p;
  }

  /** Returns a bind group for these buffers, reused while the same buffers come back (pooled buffers do). */
  private bindGroup(kernel: Kernel, bindings: Binding[]): GPUBindGroup {
    let key = `${kernel.key}|${this.arenaIndex}`;
    for (const b of bindings) key += `|${this.bufferId(b.buffer)}:${b.offset ?? 0}:${b.size ?? ""}`;
    let group = this.groups.get(key);
    if (!group) {
      if (this.groups.size >= 8192) this.groups.clear();
      const entries: GPUBindGroupEntry[] = [
        { binding: 0, resource: { buffer: this.arenas[this.arenaIndex], offset: 0, size: PARAM_BYTES } },
      ];
      for (let i = 0; i < bindings.length; i++) {
        const b = bindings[i];
        entries.push({ binding: i + 1, resource: { buffer: b.buffer, offset: b.offset ?? 0, size: b.size } });
      }
      group = this.device.createBindGroup({
        layout: this.layouts.get(kernel.key) as GPUBindGroupLayout,
        entries,
      });
      this.groups.set(key, group);
    }
    return group;
  }

  private bufferId(b: GPUBuffer): number {
    let id = this.ids.get(b);
    if (id === undefined) {
      id = this.nextId++;
      this.ids.set(b, id);
    }
    return id;
  }

  /** Forgets cached bind groups (their buffers are being destroyed). */
  forgetBindGroups(): void {
    this.groups.clear();
  }

  /** Number of distinct pipelines compiled so far. */
  get pipelineCount(): number {
    return this.pipelines.size;
  }

  /** Starts counting distinct pipelines anew. */
  resetPipelineUse(): void {
    this.pipelinesUsed.clear();
  }

  /** Records one dispatch: `params` (≤ 64 words) go to binding 0, `bindings` to 1..n. */
  dispatch(
    kernel: Kernel,
    params: Uint32Array,
    bindings: Binding[],
    groups: [number, number?, number?],
  ): void {
    this.check();
    if (params.length > PARAM_WORDS)
      throw new Error(`webgpu: ${kernel.key}: ${params.length} parameter words`);
    for (const b of bindings) {
      // refused here, before Dawn would raise a validation error that poisons the device
      const bytes = b.size ?? b.buffer.size - (b.offset ?? 0);
      if (bytes > this.maxBinding) {
        throw new Error(
          `webgpu: ${kernel.key}: an operand of ${bytes} bytes exceeds one binding (maxStorageBufferBindingSize ${this.maxBinding}); this op cannot split it`,
        );
      }
    }
    const pipeline = this.pipeline(kernel);
    this.pipelinesUsed.add(kernel.key);
    if (this.arenaOffset + this.paramStride > ARENA_BYTES) {
      this.arenaIndex++;
      this.arenaOffset = 0;
      if (this.arenaIndex * ARENA_BYTES >= this.arenaData.byteLength) {
        const grown = new Uint32Array(this.arenaData.length * 2);
        grown.set(this.arenaData);
        this.arenaData = grown;
      }
    }
    while (this.arenas.length <= this.arenaIndex) {
      this.arenas.push(
        this.device.createBuffer({
          size: ARENA_BYTES,
          usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
        }),
      );
    }
    const base = (this.arenaIndex * ARENA_BYTES + this.arenaOffset) / 4;
    this.arenaData.set(params, base);
    const group = this.bindGroup(kernel, bindings);
    const dynamicOffset = this.arenaOffset;
    this.arenaOffset += this.paramStride;
    const prof = this.profiling;
    if (prof && prof.keys.length >= 512) this.flush();
    const pass = prof
      ? this.profiledPass(kernel.label ? kernel.label(params) : kernel.key, params)
      : this.computePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, group, [dynamicOffset]);
    pass.dispatchWorkgroups(groups[0], groups[1] ?? 1, groups[2] ?? 1);
    if (prof) {
      pass.end();
      this.pass = null;
    }
    this.recorded++;
    this.counters.dispatches++;
    if (this.recorded >= DISPATCHES_PER_SUBMIT) this.flush();
  }

  private profiledPass(key: string, params: Uint32Array): GPUComputePassEncoder {
    const prof = this.profiling as NonNullable<typeof this.profiling>;
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
    this.encoder ??= this.device.createCommandEncoder();
    const i = prof.keys.length;
    const label = key.startsWith("matmul")
      ? `${key} ${params[0]}x${params[2]}x${params[1]}·${params[3]}`
      : key;
    prof.keys.push(label);
    return this.encoder.beginComputePass({
      timestampWrites: {
        querySet: prof.set,
        beginningOfPassWriteIndex: 2 * i,
        endOfPassWriteIndex: 2 * i + 1,
      },
    });
  }

  /** Starts timing every dispatch on the GPU (needs a device created with `profile: true`). */
  startProfile(): void {
    if (!this.device.features.has("timestamp-query"))
      throw new Error("webgpu: profiling needs the timestamp-query feature");
    this.flush();
    this.profiling = {
      set: this.device.createQuerySet({ type: "timestamp", count: 1024 }),
      keys: [],
      buf: this.device.createBuffer({
        size: 1024 * 8,
        usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
      }),
      totals: new Map(),
      reads: [],
    };
  }

  /** Stops profiling; resolves to GPU milliseconds and dispatch counts per kernel, largest first. */
  async stopProfile(): Promise<{ kernel: string; n: number; ms: number }[]> {
    const prof = this.profiling;
    if (!prof) return [];
    this.flush();
    await Promise.all(prof.reads);
    this.profiling = null;
    return [...prof.totals.entries()]
      .map(([kernel, t]) => ({ kernel, n: t.n, ms: t.ns / 1e6 }))
      .sort((a, b) => b.ms - a.ms);
  }

  private computePass(): GPUComputePassEncoder {
    if (!this.pass) {
      this.encoder ??= this.device.createCommandEncoder();
      this.pass = this.encoder.beginComputePass();
    }
    return this.pass;
  }

  private commandEncoder(): GPUCommandEncoder {
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
    this.encoder ??= this.device.createCommandEncoder();
    return this.encoder;
  }

  /** Records a buffer-to-buffer copy in order with the dispatches. */
  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, bytes: number): void {
    this.check();
    this.commandEncoder().copyBufferToBuffer(src, srcOffset, dst, dstOffset, bytes);
    this.recorded++;
  }

  /** Submits everything recorded so far (parameter arenas first). */
  flush(): void {
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
    if (!this.encoder) return;
    const prof = this.profiling;
    let profRead: { keys: string[]; staging: GPUBuffer } | null = null;
    if (prof && prof.keys.length > 0) {
      const n = prof.keys.length;
      this.encoder.resolveQuerySet(prof.set, 0, 2 * n, prof.buf, 0);
      const staging = this.device.createBuffer({
        size: 2 * n * 8,
        usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      });
      this.encoder.copyBufferToBuffer(prof.buf, 0, staging, 0, 2 * n * 8);
      profRead = { keys: prof.keys, staging };
      prof.keys = [];
    }
    const used = this.arenaIndex + (this.arenaOffset > 0 ? 1 : 0);
    for (let i = 0; i < used; i++) {
      const bytes = i < this.arenaIndex ? ARENA_BYTES : this.arenaOffset;
      this.device.queue.writeBuffer(this.arenas[i], 0, this.arenaData.buffer, i * ARENA_BYTES, bytes);
    }
    this.device.queue.submit([this.encoder.finish()]);
    this.encoder = null;
    this.arenaIndex = 0;
    this.arenaOffset = 0;
    this.recorded = 0;
    this.counters.submits++;
    this.pool.afterSubmit();
    if (prof && profRead) {
      const { keys, staging } = profRead;
      prof.reads.push(
        staging.mapAsync(GPUMapMode.READ).then(() => {
          const t = new BigUint64Array(staging.getMappedRange());
          keys.forEach((k, i) => {
            const e = prof.totals.get(k) ?? { n: 0, ns: 0 };
            e.n++;
            e.ns += Number(t[2 * i + 1] - t[2 * i]);
            prof.totals.set(k, e);
          });
          staging.unmap();
          staging.destroy();
        }),
      );
    }
  }

  /** Writes `data` into `buffer` at `offset`, after everything recorded so far. */
  write(buffer: GPUBuffer, offset: number, data: ArrayBufferView): void {
    this.check();
    if (this.encoder) this.flush();
    const bytes = data.byteLength;
    if (bytes % 4 === 0) {
      this.device.queue.writeBuffer(buffer, offset, data.buffer, data.byteOffset, bytes);
    } else {
      const padded = new Uint8Array(Math.ceil(bytes / 4) * 4);
      padded.set(new Uint8Array(data.buffer, data.byteOffset, bytes));
      this.device.queue.writeBuffer(buffer, offset, padded);
    }
  }

  /** Returns a copy of `bytes` bytes of `buffer` from `offset`, once the work before it is done. */
  async read(buffer: GPUBuffer, offset: number, bytes: number): Promise<ArrayBuffer> {
    this.check();
    const size = BufferPool.classSize(Math.max(bytes, 4));
    const list = this.stagingFree.get(size);
    const staging =
      list?.pop() ??
      this.device.createBuffer({ size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const n = Math.ceil(bytes / 4) * 4;
    if (n > 0) this.commandEncoder().copyBufferToBuffer(buffer, offset, staging, 0, n);
    this.flush();
    this.counters.readbacks++;
    try {
      await staging.mapAsync(GPUMapMode.READ, 0, Math.max(n, 4));
    } catch (err) {
      this.check();
      throw new Error(`webgpu: reading back ${bytes} bytes failed: ${(err as Error).message}`);
    }
    this.check();
    const out = staging.getMappedRange(0, Math.max(n, 4)).slice(0, bytes);
    staging.unmap();
    let free = this.stagingFree.get(size);
    if (!free) {
      free = [];
      this.stagingFree.set(size, free);
    }
    if (free.length < 4) free.push(staging);
    else staging.destroy();
    return out;
  }

  /** Resolves when all submitted work has finished. */
  async sync(): Promise<void> {
    this.flush();
    await this.device.queue.onSubmittedWorkDone();
    this.check();
  }

  /** Returns the pool's counters. */
  memory(): PoolStats {
    return this.pool.snapshot();
  }

  /** Releases the device. */
  destroy(): void {
    this.flush();
    this.pool.trim();
    this.pool.afterSubmit();
    this.device.destroy();
  }
}
