/// <reference types="@webgpu/types" />

/** Bytes the pool holds: handed out now, and created in all (handed out + kept free). */
export interface PoolStats {
  bytesInUse: number;
  bytesAllocated: number;
  buffersInUse: number;
  buffersFree: number;
}

/**
 * Storage buffers pooled by size class. Classes are a quarter-octave apart (at most 19% slack);
 * freed buffers wait in per-class free lists until `maxFreeBytes` is exceeded, then the oldest
 * go. Destruction is deferred to `afterSubmit()`, since a command not yet submitted may use them.
 */
export class BufferPool {
  private readonly free = new Map<number, GPUBuffer[]>();
  private readonly sizeOf = new WeakMap<GPUBuffer, number>();
  private readonly doomed: GPUBuffer[] = [];
  private freeBytes = 0;
  private stats: PoolStats = { bytesInUse: 0, bytesAllocated: 0, buffersInUse: 0, buffersFree: 0 };

  constructor(
    private readonly device: GPUDevice,
    private readonly usage: GPUBufferUsageFlags,
    private readonly maxFreeBytes: number,
    private readonly maxBufferSize: number,
  ) {}

  /** Returns the class size a request of `bytes` rounds up to. */
  static classSize(bytes: number): number {
    const b = Math.max(256, Math.ceil(bytes / 16) * 16);
    if (b <= 4096) return Math.ceil(b / 256) * 256;
    const octave = 2 ** Math.floor(Math.log2(b));
    const step = octave / 4;
    return Math.ceil(b / step) * step;
  }

  /** Returns a buffer of at least `bytes` bytes, from the free list when one fits. */
  acquire(bytes: number, label?: string): GPUBuffer {
    let size = BufferPool.classSize(bytes);
    if (size > this.maxBufferSize) size = Math.ceil(bytes / 16) * 16;
    if (size > this.maxBufferSize) {
      throw new Error(
        `webgpu: a buffer of ${bytes} bytes exceeds the device's maxBufferSize (${this.maxBufferSize} bytes)`,
      );
    }
    const list = this.free.get(size);
    let buf = list?.pop();
    if (buf) {
      this.freeBytes -= size;
      this.stats.buffersFree--;
    } else {
      buf = this.device.createBuffer({ size, usage: this.usage, label });
      this.sizeOf.set(buf, size);
      this.stats.bytesAllocated += size;
    }
    this.stats.bytesInUse += size;
    this.stats.buffersInUse++;
    return buf;
  }

  /** Returns a buffer to its class's free list (or schedules it for destruction past the cap). */
  release(buf: GPUBuffer): void {
    const size = this.sizeOf.get(buf);
    if (size === undefined) throw new Error("webgpu: released a buffer the pool did not hand out");
    this.stats.bytesInUse -= size;
    this.stats.buffersInUse--;
    if (this.freeBytes + size > this.maxFreeBytes) {
      this.doomed.push(buf);
      this.stats.bytesAllocated -= size;
      return;
    }
    let list = this.free.get(size);
    if (!list) {
      list = [];
      this.free.set(size, list);
    }
    list.push(buf);
    this.freeBytes += size;
    this.stats.buffersFree++;
  }

  /** Destroys buffers released past the cap; call once their last commands are submitted. */
  afterSubmit(): void {
    if (this.doomed.length === 0) return;
    for (const b of this.doomed) b.destroy();
    this.doomed.length = 0;
    this.onDestroy?.();
  }

  /** Called after buffers were destroyed (the runtime drops bind groups that may hold them). */
  onDestroy?: () => void;

  /** Destroys every free buffer (kept ones stay valid). */
  trim(): void {
    for (const list of this.free.values()) for (const b of list) this.doomed.push(b);
    this.stats.bytesAllocated -= this.freeBytes;
    this.free.clear();
    this.freeBytes = 0;
    this.stats.buffersFree = 0;
  }

  /** Returns a copy of the counters. */
  snapshot(): PoolStats {
    return { ...this.stats };
  }
}
