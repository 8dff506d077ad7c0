/**
 * The source of a kernel worker, as a string so that one text serves Node's `worker_threads`
 * (`eval: true`) and a browser's `Worker` (from a Blob URL).
 *
 * In Node the text runs as a CommonJS script or, when the parent runs with `--input-type=module` (which
 * workers inherit), as an ES module: it reaches `workerData` through `import()`, which both allow.
 *
 * A worker instantiates the shared kernel module on the shared memory, then loops: spin on the job
 * counter for a while (a sleeping thread costs 50–65 µs to wake), sleep in `Atomics.wait`, run its
 * share of the job with the arguments the caller left in its slot, count itself done.
 */

/** Int32 slots of the control block. */
export const CTRL = { seq: 0, done: 1, stop: 2, kernel: 3, error: 4, ready: 5 } as const;
/** Bytes before the argument slots in the control block. */
export const ARGS_BYTE_OFFSET = 64;
/** Float64 arguments per thread slot (the first holds the count). */
export const ARGS_PER_THREAD = 32;

/** Returns the JavaScript text a worker runs. */
export function workerSource(): string {
  return `
"use strict";
const SEQ = ${CTRL.seq}, DONE = ${CTRL.done}, STOP = ${CTRL.stop}, KERNEL = ${CTRL.kernel}, ERROR = ${CTRL.error}, READY = ${CTRL.ready};
function start(data) {
  const { module, memory, ctrl: ctrlBuffer, tid, names, spin } = data;
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  const ctrl = new Int32Array(ctrlBuffer);
  const args = new Float64Array(ctrlBuffer, ${ARGS_BYTE_OFFSET});
  const fns = names.map((n) => instance.exports[n]);
  const base = tid * ${ARGS_PER_THREAD};
  const list = [];
  Atomics.add(ctrl, READY, 1);
  Atomics.notify(ctrl, READY);
  let seen = Atomics.load(ctrl, SEQ);
  for (;;) {
    let spins = 0;
    while (Atomics.load(ctrl, SEQ) === seen) {
      if (++spins > spin) {
        Atomics.wait(ctrl, SEQ, seen);
        spins = 0;
      }
    }
    seen = Atomics.load(ctrl, SEQ);
    if (Atomics.load(ctrl, STOP) !== 0) return;
    const n = args[base];
    if (n >= 0) {
      list.length = n;
      for (let i = 0; i < n; i++) list[i] = args[base + 1 + i];
      try {
        fns[Atomics.load(ctrl, KERNEL)].apply(null, list);
      } catch (err) {
        Atomics.store(ctrl, ERROR, tid);
      }
    }
    Atomics.add(ctrl, DONE, 1);
    Atomics.notify(ctrl, DONE);
  }
}
if (typeof process !== "undefined" && process.versions && process.versions.node) {
  import("node:worker_threads").then((m) => start(m.workerData));
} else {
  self.onmessage = (e) => start(e.data);
}
`;
}
