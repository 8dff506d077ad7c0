/**
 * The allocator of the shared WebAssembly memory: blocks rounded up to a size class (64-byte steps,
 * a cache line that also aligns every f32x4, up to 4 KiB; above that eight classes per power of two,
 * so at most 12.5% is wasted), freed blocks kept in per-class free lists and handed out again first.
 * Size classes matter when shapes vary (sequences of different lengths): with exact sizes every new
 * length left its freed blocks unusable and memory grew without bound. When the heap is full, a
 * free block of a larger class is taken before giving up. Memory only grows (WebAssembly cannot
 * shrink it); `bytesAllocated` is its high-water mark.
 */
export class Heap {
  private top: number;
  private readonly free = new Map<number, number[]>();
  /** Blocks handed out from a larger class than their request, with their real size. */
  private readonly substituted = new Map<number, number>();
  /** Bytes in live blocks. */
  bytesInUse = 0;

  /** Manages memory from byte `base` upward. */
  constructor(
    private readonly memory: WebAssembly.Memory,
    base: number,
  ) {
    this.top = Heap.round(base);
  }

  /** Returns the block size (size class) that holds `bytes`. */
  static round(bytes: number): number {
    if (bytes <= 4096) return Math.max(64, Math.ceil(bytes / 64) * 64);
    const step = 2 ** Math.floor(Math.log2(bytes)) / 8;
    return Math.ceil(bytes / step) * step;
  }

  /** A free block of a larger class (at most 4× the size), taken when the heap cannot grow. */
  private takeLarger(size: number): { ptr: number; size: number } | undefined {
    let best: number | undefined;
    for (const [s, list] of this.free) {
      if (s > size && s <= 4 * size && list.length > 0 && (best === undefined || s < best)) best = s;
    }
    if (best === undefined) return undefined;
    return { ptr: this.free.get(best)!.pop()!, size: best };
  }

  /** Returns the byte address of a new block of at least `bytes` bytes. */
  alloc(bytes: number): number {
    const size = Heap.round(bytes);
    const list = this.free.get(size);
    let ptr = list?.pop();
    if (ptr === undefined) {
      ptr = this.top;
      const end = ptr + size;
      const have = this.memory.buffer.byteLength;
      if (end > have) {
        const needed = Math.ceil((end - have) / 65536);
        // Grow by at least 1/8 of the current size so that many small allocations grow rarely.
        const wanted = Math.max(needed, Math.ceil(have / 8 / 65536));
        const room = 65536 - have / 65536;
        try {
          if (needed > room) throw new RangeError("it would pass the 4 GiB of wasm32");
          this.memory.grow(Math.min(wanted, room));
        } catch (err) {
          const larger = this.takeLarger(size);
          if (larger) {
            // The block keeps its own class: `release` is told the caller's size, so remember the real one.
            this.substituted.set(larger.ptr, larger.size);
            this.bytesInUse += larger.size;
            return larger.ptr;
          }
          throw new Error(
            `cpu-wasm: out of memory allocating ${size} bytes (${this.bytesInUse} in use, ${have} reserved): ${(err as Error).message}`,
          );
        }
      }
      this.top = end;
    }
    this.bytesInUse += size;
    return ptr;
  }

  /** Gives back the block at `ptr` allocated with `bytes`. */
  release(ptr: number, bytes: number): void {
    let size = Heap.round(bytes);
    const real = this.substituted.get(ptr);
    if (real !== undefined) {
      this.substituted.delete(ptr);
      size = real;
    }
    let list = this.free.get(size);
    if (!list) {
      list = [];
      this.free.set(size, list);
    }
    list.push(ptr);
    this.bytesInUse -= size;
  }

  /** Returns the bytes of memory reserved so far (live blocks, free lists, workspaces). */
  get bytesAllocated(): number {
    return this.top;
  }
}
