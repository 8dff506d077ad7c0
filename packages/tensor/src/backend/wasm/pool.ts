import { importNode } from "./node-builtin.js";
import { ARGS_BYTE_OFFSET, ARGS_PER_THREAD, CTRL, workerSource } from "./worker-source.js";

/** Options of a thread pool. */
export interface ThreadPoolOptions {
  /** The compiled kernel module (shared by every thread). */
  module: WebAssembly.Module;
  /** The shared memory every thread instantiates the module on. */
  memory: WebAssembly.Memory;
  /** Threads in all, the calling thread included (1 = no workers). */
  threads: number;
  /** Export names a job may call, in the order jobs refer to them. */
  kernels: readonly string[];
  /** Iterations a worker spins on the job counter before it sleeps. */
  spin?: number;
}

type Kernel = (...args: number[]) => unknown;

interface WorkerLike {
  terminate(): unknown;
}

/** Polls of the done counter before the calling thread sleeps: short, so a late worker gets the core. */
const MAIN_SPIN = 20_000;

const isNode = typeof process !== "undefined" && !!process.versions?.node && typeof window === "undefined";

/**
 * Worker threads that run kernel shares over one shared WebAssembly memory. The calling thread posts a
 * job (a kernel index and one argument list per thread), computes share 0 itself, and waits for the
 * others; workers spin briefly between jobs and then sleep. Workers are unref'd in Node, so an idle pool
 * never keeps a process alive, and `close()` ends them explicitly.
 */
export class ThreadPool {
  /** Threads in all, the calling thread included. */
  readonly threads: number;
  /** The calling thread's instance of the kernel module. */
  readonly exports: Record<string, Kernel>;
  private readonly ctrl: Int32Array;
  private readonly args: Float64Array;
  private readonly fns: Kernel[];
  private readonly kernelIndex: Map<string, number>;
  private workers: WorkerLike[] = [];
  private canWait = isNode;
  private closed = false;

  private constructor(opts: ThreadPoolOptions, ctrlBuffer: SharedArrayBuffer) {
    this.threads = opts.threads;
    const instance = new WebAssembly.Instance(opts.module, { env: { memory: opts.memory } });
    this.exports = instance.exports as unknown as Record<string, Kernel>;
    this.ctrl = new Int32Array(ctrlBuffer);
    this.args = new Float64Array(ctrlBuffer, ARGS_BYTE_OFFSET);
    this.fns = opts.kernels.map((n) => {
      const f = this.exports[n];
      if (typeof f !== "function") throw new Error(`ThreadPool: the kernel module has no export "${n}"`);
      return f;
    });
    this.kernelIndex = new Map(opts.kernels.map((n, i) => [n, i]));
  }

  /** Resolves to a pool whose workers have all instantiated the module. */
  static async create(opts: ThreadPoolOptions): Promise<ThreadPool> {
    const threads = Math.max(1, Math.floor(opts.threads));
    const ctrlBuffer = new SharedArrayBuffer(ARGS_BYTE_OFFSET + threads * ARGS_PER_THREAD * 8);
    const pool = new ThreadPool({ ...opts, threads }, ctrlBuffer);
    const data = {
      module: opts.module,
      memory: opts.memory,
      ctrl: ctrlBuffer,
      names: [...opts.kernels],
      spin: opts.spin ?? 200_000,
    };
    let failure: Error | null = null;
    const fail = (err: unknown) => {
      failure = err instanceof Error ? err : new Error(String(err));
    };
    try {
      if (isNode) {
        const { Worker } = await importNode("node:worker_threads");
        for (let tid = 1; tid < threads; tid++) {
          const w = new Worker(workerSource(), { eval: true, workerData: { ...data, tid } });
          w.on("error", fail);
          w.unref();
          pool.workers.push(w);
        }
      } else {
        const url = URL.createObjectURL(new Blob([workerSource()], { type: "text/javascript" }));
        for (let tid = 1; tid < threads; tid++) {
          const w = new Worker(url);
          w.onerror = (e) => fail(new Error(e.message));
          w.postMessage({ ...data, tid });
          pool.workers.push(w);
        }
      }
      const started = Date.now();
      while (Atomics.load(pool.ctrl, CTRL.ready) < threads - 1) {
        if (failure) throw failure;
        if (Date.now() - started > 30_000) throw new Error("ThreadPool: workers did not start within 30 s");
        await new Promise((r) => setTimeout(r, 2));
      }
    } catch (err) {
      pool.close();
      throw new Error(
        `ThreadPool: starting ${threads - 1} kernel worker(s) failed: ${(err as Error).message}`,
      );
    }
    return pool;
  }

  /** Returns the job index of a kernel export. */
  kernel(name: string): number {
    const i = this.kernelIndex.get(name);
    if (i === undefined) throw new Error(`ThreadPool: unknown kernel "${name}"`);
    return i;
  }

  /**
   * Runs one job: thread t calls the kernel with shares[t] (null or missing = idle), the calling thread
   * runs shares[0]; returns when every share is done.
   */
  run(kernel: number, shares: readonly (readonly number[] | null)[]): void {
    if (this.closed) throw new Error("ThreadPool: used after close()");
    const T = this.threads;
    let remote = 0;
    for (let t = 1; t < T; t++) {
      const share = shares[t];
      const base = t * ARGS_PER_THREAD;
      if (share) {
        if (share.length >= ARGS_PER_THREAD)
          throw new Error(`ThreadPool: ${share.length} arguments exceed the slot`);
        this.args[base] = share.length;
        for (let i = 0; i < share.length; i++) this.args[base + 1 + i] = share[i];
        remote++;
      } else this.args[base] = -1;
    }
    const fn = this.fns[kernel];
    if (remote === 0) {
      if (shares[0]) fn(...shares[0]);
      return;
    }
    const ctrl = this.ctrl;
    Atomics.store(ctrl, CTRL.kernel, kernel);
    Atomics.store(ctrl, CTRL.done, 0);
    Atomics.store(ctrl, CTRL.error, -1);
    Atomics.add(ctrl, CTRL.seq, 1);
    Atomics.notify(ctrl, CTRL.seq);
    let localError: unknown = null;
    try {
      if (shares[0]) fn(...shares[0]);
    } catch (err) {
      localError = err;
    }
    const need = T - 1;
    let spins = 0;
    for (;;) {
      const done = Atomics.load(ctrl, CTRL.done);
      if (done >= need) break;
      if (++spins > MAIN_SPIN && this.canWait) {
        try {
          Atomics.wait(ctrl, CTRL.done, done, 50);
        } catch {
          this.canWait = false;
        }
      }
    }
    if (localError) throw localError;
    const failed = Atomics.load(ctrl, CTRL.error);
    if (failed >= 0)
      throw new Error(
        `ThreadPool: kernel "${[...this.kernelIndex.keys()][kernel]}" failed on worker ${failed}`,
      );
  }

  /** Stops and terminates the workers; the pool is unusable afterwards. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    Atomics.store(this.ctrl, CTRL.stop, 1);
    Atomics.add(this.ctrl, CTRL.seq, 1);
    Atomics.notify(this.ctrl, CTRL.seq);
    for (const w of this.workers) w.terminate();
    this.workers = [];
  }
}
