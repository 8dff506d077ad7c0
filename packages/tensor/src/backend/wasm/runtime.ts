import { Heap } from "./heap.js";
import { ELEMENTWISE_KERNELS } from "./kernels/elementwise.js";
import { GEMM_ITEM_WORDS, GEMM_WORKSPACE_BYTES } from "./kernels/matmul.js";
import { kernelBinary, MAX_PAGES, relaxedSimdSupported, simdSupported } from "./module.js";
import { importNode } from "./node-builtin.js";
import { ThreadPool } from "./pool.js";

/** One GEMM: pointers in bytes, strides in elements, c's columns contiguous. */
export interface GemmArgs {
  a: number;
  b: number;
  c: number;
  batch: number;
  M: number;
  N: number;
  K: number;
  /** Strides of a: per batch, per row (m), per column (k). */
  sab: number;
  sam: number;
  sak: number;
  /** Strides of b: per batch, per row (k), per column (n). */
  sbb: number;
  sbk: number;
  sbn: number;
  /** Strides of c: per batch, per row. */
  scb: number;
  scm: number;
  /** Add to c instead of overwriting it. */
  accumulate?: boolean;
}

/** The row kernels `rows` can run. */
export type RowKernel =
  | "softmaxRows"
  | "attnSoftmax"
  | "attnGradScores"
  | "attnRowDot"
  | "normRows"
  | "crossEntropyRows"
  | "crossEntropyBackwardRows"
  | "adamw"
  | "copyRows"
  | "sumRows"
  | "sumColumns";

/** The elementwise kernels: `unary_<op>` and `binary_<op>` for the ops of kernels/elementwise.ts. */
export type ElementwiseKernel = `unary_${string}` | `binary_${string}` | `binaryRows_${string}`;

/** Options of the fast CPU runtime. */
export interface WasmRuntimeOptions {
  /** Threads in all, the caller included (default: SR2SE_WASM_THREADS, else the core count). */
  threads?: number;
  /** Use f32x4.relaxed_madd where available (default true). */
  relaxed?: boolean;
}

/** Kernels a job may name (the exports the pool resolves). */
const KERNELS = [
  "gemm",
  "gemmChunks",
  "gemmList",
  "softmaxRows",
  "attnSoftmax",
  "attnGradScores",
  "attnRowDot",
  "normRows",
  "normBackwardRows",
  "crossEntropyRows",
  "crossEntropyBackwardRows",
  "adamw",
  "sumRows",
  "sumColumns",
  ...ELEMENTWISE_KERNELS,
];

/** Below this many multiply-adds a GEMM runs on the calling thread alone (a wake-up costs more). */
const PARALLEL_MIN_MACS = 64 * 64 * 64;

function defaultThreads(): number {
  const env = typeof process !== "undefined" ? process.env.SR2SE_WASM_THREADS : undefined;
  if (env && Number(env) >= 1) return Math.floor(Number(env));
  if (typeof navigator !== "undefined" && navigator.hardwareConcurrency) return navigator.hardwareConcurrency;
  return 1;
}

/**
 * The fast CPU runtime: one shared WebAssembly memory holding every tensor buffer and each thread's
 * workspace, the kernel module compiled once, and a pool of worker threads that split each kernel.
 */
export class WasmRuntime {
  private closed = false;
  private readonly gemmIndex: number;
  private readonly gemmChunksIndex: number;
  private readonly gemmListIndex: number;
  private list = 0;
  private listCapacity = 0;
  /** Byte address of the chunk counter that gemmChunks claims from. */
  private readonly counter: number;
  private readonly counterView: Int32Array;

  private constructor(
    readonly memory: WebAssembly.Memory,
    readonly heap: Heap,
    readonly pool: ThreadPool,
    /** Per-thread scratch: byte address of each thread's workspace. */
    readonly workspaces: number[],
    /** Whether the kernels use f32x4.relaxed_madd. */
    readonly relaxed: boolean,
  ) {
    this.gemmIndex = pool.kernel("gemm");
    this.gemmChunksIndex = pool.kernel("gemmChunks");
    this.gemmListIndex = pool.kernel("gemmList");
    this.counter = heap.alloc(64);
    this.counterView = new Int32Array(memory.buffer, this.counter, 1);
  }

  /** Threads in all, the caller included. */
  get threads(): number {
    return this.pool.threads;
  }

  /** Resolves to a runtime with its workers started and warmed up; rejects where WASM SIMD or shared memory is missing. */
  static async create(opts: WasmRuntimeOptions = {}): Promise<WasmRuntime> {
    if (!simdSupported()) {
      throw new Error("cpu-wasm: this JavaScript engine lacks WebAssembly SIMD or SharedArrayBuffer");
    }
    let threads = opts.threads ?? defaultThreads();
    if (isNodeEnv()) {
      const os = await importNode("node:os");
      if (opts.threads === undefined && !process.env.SR2SE_WASM_THREADS) {
        threads = os.availableParallelism?.() ?? os.cpus().length;
      }
    }
    const relaxed = opts.relaxed !== false && (await relaxedSimdSupported());
    const module = await WebAssembly.compile(kernelBinary(relaxed));
    const memory = new WebAssembly.Memory({ initial: 64, maximum: MAX_PAGES, shared: true });
    const heap = new Heap(memory, 65536);
    const workspaces: number[] = [];
    for (let t = 0; t < threads; t++) workspaces.push(heap.alloc(GEMM_WORKSPACE_BYTES));
    const pool = await ThreadPool.create({ module, memory, threads, kernels: KERNELS });
    const rt = new WasmRuntime(memory, heap, pool, workspaces, relaxed);
    rt.warmUp();
    return rt;
  }

  /** One job per worker on a small product, so that each thread's first real call runs optimized code. */
  private warmUp(): void {
    const n = 128;
    const a = this.heap.alloc(n * n * 4);
    const c = this.heap.alloc(n * n * 4 * this.threads);
    new Float32Array(this.memory.buffer, a, n * n).fill(0);
    const shares = this.workspaces.map((ws, t) => [
      a,
      a,
      c + t * n * n * 4,
      1,
      n,
      n,
      n,
      0,
      n,
      1,
      0,
      n,
      1,
      0,
      n,
      0,
      ws,
    ]);
    for (let i = 0; i < 4; i++) this.pool.run(this.gemmIndex, shares);
    this.heap.release(a, n * n * 4);
    this.heap.release(c, n * n * 4 * this.threads);
  }

  /** Runs a batched GEMM, split across the threads by batch, by columns or by rows. */
  gemm(g: GemmArgs): void {
    const T = this.threads;
    const acc = g.accumulate ? 1 : 0;
    const share = (a: number, b: number, c: number, batch: number, M: number, N: number, t: number) => [
      a,
      b,
      c,
      batch,
      M,
      N,
      g.K,
      g.sab,
      g.sam,
      g.sak,
      g.sbb,
      g.sbk,
      g.sbn,
      g.scb,
      g.scm,
      acc,
      this.workspaces[t],
    ];
    if (T === 1 || g.batch * g.M * g.N * g.K < PARALLEL_MIN_MACS) {
      this.pool.run(this.gemmIndex, [share(g.a, g.b, g.c, g.batch, g.M, g.N, 0)]);
      return;
    }
    // Several chunks per thread, claimed dynamically: a thread the OS delays takes fewer.
    const target = 4 * T;
    let mode: number;
    let chunk: number;
    let chunks: number;
    if (g.batch >= 2 * T && g.scb !== 0) {
      mode = 0;
      chunk = Math.max(1, Math.floor(g.batch / target));
      chunks = Math.ceil(g.batch / chunk);
    } else if (g.N >= g.M) {
      mode = 1;
      chunk = Math.max(32, Math.ceil(g.N / target / 8) * 8);
      chunks = Math.ceil(g.N / chunk);
    } else {
      mode = 2;
      chunk = Math.max(16, Math.ceil(g.M / target / 4) * 4);
      chunks = Math.ceil(g.M / chunk);
    }
    if (chunks === 1) {
      this.pool.run(this.gemmIndex, [share(g.a, g.b, g.c, g.batch, g.M, g.N, 0)]);
      return;
    }
    this.counterView[0] = 0;
    const shares: number[][] = [];
    for (let t = 0; t < Math.min(T, chunks); t++) {
      shares.push([...share(g.a, g.b, g.c, g.batch, g.M, g.N, t), mode, chunk, chunks, this.counter]);
    }
    this.pool.run(this.gemmChunksIndex, shares);
  }

  /** Runs independent GEMMs (their outputs must not overlap), the threads claiming them one by one. */
  gemmList(items: readonly GemmArgs[]): void {
    const n = items.length;
    if (n === 0) return;
    if (n > this.listCapacity) {
      if (this.listCapacity) this.heap.release(this.list, this.listCapacity * GEMM_ITEM_WORDS * 4);
      this.listCapacity = Math.max(n, this.listCapacity * 2, 64);
      this.list = this.heap.alloc(this.listCapacity * GEMM_ITEM_WORDS * 4);
    }
    const w = new Int32Array(this.memory.buffer, this.list, n * GEMM_ITEM_WORDS);
    for (let i = 0; i < n; i++) {
      const g = items[i];
      const o = i * GEMM_ITEM_WORDS;
      w[o] = g.a;
      w[o + 1] = g.b;
      w[o + 2] = g.c;
      w[o + 3] = g.batch;
      w[o + 4] = g.M;
      w[o + 5] = g.N;
      w[o + 6] = g.K;
      w[o + 7] = g.sab;
      w[o + 8] = g.sam;
      w[o + 9] = g.sak;
      w[o + 10] = g.sbb;
      w[o + 11] = g.sbk;
      w[o + 12] = g.sbn;
      w[o + 13] = g.scb;
      w[o + 14] = g.scm;
      w[o + 15] = g.accumulate ? 1 : 0;
    }
    if (n === 1) {
      this.gemm(items[0]);
      return;
    }
    this.counterView[0] = 0;
    const shares: number[][] = [];
    for (let t = 0; t < Math.min(this.threads, n); t++)
      shares.push([this.list, n, this.counter, this.workspaces[t]]);
    this.pool.run(this.gemmListIndex, shares);
  }

  /**
   * Runs a row kernel (softmaxRows, attnSoftmax, attnGradScores) on every thread: `args` are the
   * kernel's arguments up to the rows count and after, the runtime appends the counter and chunk.
   */
  rows(
    kernel: RowKernel | ElementwiseKernel,
    rows: number,
    args: readonly number[],
    rowCost: number,
    align = 1,
  ): void {
    if (rows <= 0) return;
    const T = rows * rowCost < 1 << 15 ? 1 : this.threads;
    const chunk = Math.max(align, Math.ceil(rows / (4 * T) / align) * align);
    this.counterView[0] = 0;
    const share = [...args, this.counter, chunk];
    const shares: number[][] = [];
    for (let t = 0; t < Math.min(T, Math.ceil(rows / chunk)); t++) shares.push(share);
    this.pool.run(this.pool.kernel(kernel), shares);
  }

  /**
   * Runs a row kernel whose arguments differ per part (partial sums), with a fixed split: the rows
   * are cut into at most `SUM_PARTS` parts of equal length whatever the thread count, part p gets
   * rows [p·per, p·per + n) through `argsFor(p, first, n)` (its pointers offset to its first row, `n`
   * rows) and a counter of its own, and the threads take the parts a round at a time. The same rows
   * always land in the same partial sums, so their total is the same bits on any machine and for
   * any number of threads. Returns the number of parts.
   */
  rowsPerThread(
    kernel: "normBackwardRows",
    rows: number,
    argsFor: (part: number, first: number, n: number) => number[],
    rowCost: number,
  ): number {
    if (rows <= 0) return 0;
    const T = rows * rowCost < 1 << 15 ? 1 : this.threads;
    const per = Math.ceil(rows / Math.min(rows, SUM_PARTS));
    const parts = Math.ceil(rows / per);
    const counters = this.heap.alloc(parts * 4);
    new Int32Array(this.memory.buffer, counters, parts).fill(0);
    try {
      for (let first = 0; first < parts; first += T) {
        const shares: number[][] = [];
        for (let p = first; p < Math.min(parts, first + T); p++) {
          const n = Math.min(per, rows - p * per);
          shares.push([...argsFor(p, p * per, n), counters + p * 4, n]);
        }
        this.pool.run(this.pool.kernel(kernel), shares);
      }
    } finally {
      this.heap.release(counters, parts * 4);
    }
    return parts;
  }

  /** Ends the workers; the runtime is unusable afterwards. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pool.close();
  }
}

/** Parts a partial-sum kernel's rows are cut into, whatever the thread count (see `rowsPerThread`). */
const SUM_PARTS = 8;

function isNodeEnv(): boolean {
  return typeof process !== "undefined" && !!process.versions?.node;
}
