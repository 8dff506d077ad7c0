/**
 * The allocator of the shared WebAssembly memory: blocks rounded up to 64 bytes (a cache line, which
 * also aligns every f32x4), freed blocks kept in exact-size free lists and handed out again first.
 * A training step allocates the same sizes every time, so memory stays flat after the first step.
 * Memory only grows (WebAssembly cannot shrink it); `bytesAllocated` is its high-water mark.
 */
export class Heap {
  private top: number;
  private readonly free = new Map<number, number[]>();
  /** Bytes in live blocks. */
  bytesInUse = 0;

  /** Manages memory from byte `base` upward. */
  constructor(
    private readonly memory: WebAssembly.Memory,
    base: number,
  ) {
    this.top = Heap.round(base);
  }

  /** Returns the block size that holds `bytes`. */
  static round(bytes: number): number {
    return Math.max(64, Math.ceil(bytes / 64) * 64);
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
    const size = Heap.round(bytes);
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
