// Bench section: the fast CPU backend ("cpu-wasm": WebAssembly SIMD on worker threads) against the
// TypeScript reference ("cpu"): matmul GFLOP/s, the reference transformer step, and the same step in
// PyTorch (scripts/reference_step.py) where /usr/bin/python3 has torch. Imported by bench/run.mjs;
// also runs alone:
//   node bench/sections/cpu-fast.mjs
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const pkg = join(here, "..", "..");

const SHAPES = [
  [256, 256, 256],
  [512, 512, 512],
  [1024, 1024, 1024],
  [2048, 256, 1024],
];

/** Returns the median and the best of a few timed runs of fn (ms), after one untimed run. */
function timeMs(fn, budgetMs) {
  fn();
  const times = [];
  const start = performance.now();
  do {
    const t = performance.now();
    fn();
    times.push(performance.now() - t);
  } while (times.length < 5 && performance.now() - start < budgetMs);
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)], best: times[0] };
}

/** Returns the median and best GFLOP/s of [M,K]·[K,N] on a backend, through its raw matmul. */
function matmulGflops(backend, M, N, K, budgetMs) {
  const a = backend.allocate(M * K, "float32");
  const b = backend.allocate(K * N, "float32");
  const c = backend.allocate(M * N, "float32");
  backend.write(
    a,
    Float32Array.from({ length: M * K }, () => Math.random() - 0.5),
  );
  backend.write(
    b,
    Float32Array.from({ length: K * N }, () => Math.random() - 0.5),
  );
  const va = { buffer: a, shape: [M, K], strides: [K, 1], offset: 0 };
  const vb = { buffer: b, shape: [K, N], strides: [N, 1], offset: 0 };
  const { median, best } = timeMs(() => backend.matmul(va, vb, c), budgetMs);
  for (const x of [a, b, c]) backend.release(x);
  return { median: (2 * M * N * K) / median / 1e6, best: (2 * M * N * K) / best / 1e6 };
}

/**
 * Returns PyTorch's step time (ms) and thread count from the reference script with `threads` OpenMP
 * threads (null: torch's default), or null where torch is missing.
 */
function torchStepMs(threads) {
  const script = join(pkg, "scripts", "reference_step.py");
  if (!existsSync(script) || !existsSync("/usr/bin/python3")) return null;
  try {
    execFileSync("/usr/bin/python3", ["-c", "import torch"], { stdio: "ignore" });
  } catch {
    return null;
  }
  const env = { ...process.env };
  if (threads !== null)
    Object.assign(env, { OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads) });
  const out = execFileSync("/usr/bin/python3", [script], { encoding: "utf8", timeout: 600_000, env });
  const parsed = JSON.parse(out.trim().split("\n").pop());
  return { ms: parsed.ms_per_step, threads: parsed.threads };
}

/** Runs the section: records matmul GFLOP/s (plain and fast), the step on the fast backend, PyTorch's and the ratio. */
export default async function cpuFast(ctx) {
  const T = ctx.tensor;
  const load = os.loadavg()[0];
  ctx.record("cpu-fast: load average (1 min) at start", Number(load.toFixed(2)), "");
  let fast;
  try {
    fast = await T.init({ backend: "cpu-wasm" });
  } catch (err) {
    ctx.record(`cpu-fast: skipped (${err.message})`, 0, "");
    return;
  }
  const plain = await T.init({ backend: "cpu" });
  ctx.record("cpu-fast: worker threads (caller included)", fast.runtime?.threads ?? 0, "");
  ctx.record("cpu-fast: relaxed_madd", fast.runtime?.relaxed ? 1 : 0, "");
  for (const [M, N, K] of SHAPES) {
    const name = M === N && N === K ? `${M}³` : `${M}x${N}x${K}`;
    ctx.record(
      `matmul ${name} plain cpu`,
      Number(matmulGflops(plain, M, N, K, 3000).median.toFixed(2)),
      "GFLOP/s",
    );
    const f = matmulGflops(fast, M, N, K, 2000);
    ctx.record(`matmul ${name} fast cpu-wasm (median)`, Number(f.median.toFixed(1)), "GFLOP/s");
    ctx.record(`matmul ${name} fast cpu-wasm (best run)`, Number(f.best.toFixed(1)), "GFLOP/s");
  }
  let fastStep = null;
  if (typeof ctx.referenceStep === "function") {
    const r = await ctx.referenceStep({ backend: "cpu-wasm", steps: 5 });
    fastStep = r.msPerStep;
    ctx.record("transformer step on cpu-wasm (median)", Number(fastStep.toFixed(0)), "ms");
    ctx.record("transformer step 1 on cpu-wasm", Number(r.firstStepMs.toFixed(0)), "ms");
  }
  // Debian's torch starts with one OpenMP thread here: time it as it comes and with every core (as the
  // fast backend has), and compare with the faster of the two.
  const cores = os.availableParallelism?.() ?? os.cpus().length;
  const runs = [torchStepMs(null), torchStepMs(cores)].filter((r) => r !== null);
  for (const r of runs) {
    ctx.record(`transformer step in PyTorch, ${r.threads} thread(s) (median)`, Number(r.ms.toFixed(0)), "ms");
  }
  if (runs.length > 0 && fastStep !== null) {
    const best = Math.min(...runs.map((r) => r.ms));
    ctx.record("cpu-wasm step / best PyTorch step", Number((fastStep / best).toFixed(2)), "x");
  }
  ctx.record("cpu-fast: load average (1 min) at end", Number(os.loadavg()[0].toFixed(2)), "");
  await T.init({ backend: "cpu" });
  fast.dispose?.();
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  // Alone: the matmul figures and PyTorch's step (the transformer step needs bench/run.mjs's helper).
  const tensor = await import(pathToFileURL(join(pkg, "dist", "index.js")).href);
  await cpuFast({
    tensor,
    record(name, value, unit) {
      console.log(`${name.padEnd(56)} ${String(value).padStart(12)} ${unit}`);
    },
  });
  process.exit(0);
}
