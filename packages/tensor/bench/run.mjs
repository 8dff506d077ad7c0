// npm run bench -w @sr2se/tensor
// Prints matmul GFLOP/s (256³, 512³, 1024³, 2048×256×1024 as M×N×K) and ms per training step of the
// reference transformer (decoder-only, d_model 256, 4 layers, 4 heads, SwiGLU 1024, vocab 512,
// sequence 96, batch 16, AdamW) on the TypeScript reference CPU backend, then runs every
// bench/sections/*.mjs (sorted; each default-exports `async (ctx) => {}`), and writes all figures to
// bench/results.json. BENCH_SECTIONS=none skips the sections; BENCH_SECTIONS=webgpu runs only those
// whose file name contains a listed word.
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { REFERENCE } from "./reference.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, "..", "dist", "index.js");
if (!existsSync(dist)) {
  console.error(`bench: ${dist} is missing; run \`npm run build -w @sr2se/tensor\` first`);
  process.exit(1);
}
const T = await import(pathToFileURL(dist).href);

const results = [];
/** Records one figure (printed now, written to results.json at the end). */
function record(name, value, unit) {
  results.push({ name, value, unit });
  console.log(`${name.padEnd(56)} ${String(value).padStart(12)} ${unit}`);
}

/**
 * Times training steps (forward, backward, AdamW) of the reference transformer on a backend; resolves
 * to { msPerStep, firstStepMs, loss, steps }. The default device is restored afterwards.
 */
export async function referenceStep({ backend = "cpu", steps = 3, config = REFERENCE } = {}) {
  const previous = T.defaultBackend().name;
  await T.init({ backend });
  const model = new T.nn.TransformerLM(config, { seed: 1 });
  const opt = new T.optim.AdamW(model.parameters(), { lr: 3e-4, weightDecay: 0.1 });
  const ids = T.randint(0, config.vocabSize, [config.batch, config.seq], { seed: 2 });
  const targets = T.randint(0, config.vocabSize, [config.batch, config.seq], { seed: 3 });
  const step = async () => {
    const t0 = performance.now();
    const loss = T.tidy(() => model.loss(ids, targets));
    loss.backward();
    opt.step();
    opt.zeroGrad();
    const value = await loss.item();
    loss.dispose();
    return { ms: performance.now() - t0, loss: value };
  };
  const first = await step();
  const times = [];
  let loss = first.loss;
  for (let i = 0; i < steps; i++) {
    const r = await step();
    times.push(r.ms);
    loss = r.loss;
  }
  times.sort((a, b) => a - b);
  ids.dispose();
  targets.dispose();
  opt.dispose();
  model.dispose();
  await T.init({ backend: previous });
  return { msPerStep: times[Math.floor(times.length / 2)], firstStepMs: first.ms, loss, steps };
}

function matmulGflops(M, N, K, budgetMs) {
  const a = T.randn([M, K], { seed: 1 });
  const b = T.randn([K, N], { seed: 2 });
  T.matmul(a, b).dispose();
  const times = [];
  const start = performance.now();
  do {
    const t = performance.now();
    T.matmul(a, b).dispose();
    times.push(performance.now() - t);
    // at least 3 runs and about a second, so small sizes are timed after the JIT has warmed up
  } while ((times.length < 3 || performance.now() - start < 1000) && performance.now() - start < budgetMs);
  times.sort((x, y) => x - y);
  a.dispose();
  b.dispose();
  return (2 * M * N * K) / times[Math.floor(times.length / 2)] / 1e6;
}

console.log(
  `@sr2se/tensor bench — node ${process.version}, ${os.cpus().length} cpus, load ${os.loadavg()[0].toFixed(2)}`,
);
await T.init({ backend: "cpu" });
for (const [M, N, K] of [
  [256, 256, 256],
  [512, 512, 512],
  [1024, 1024, 1024],
  [2048, 256, 1024],
]) {
  const name = M === N && N === K ? `${M}³` : `${M}x${N}x${K}`;
  record(`matmul ${name} reference cpu`, Number(matmulGflops(M, N, K, 4000).toFixed(2)), "GFLOP/s");
}
const ref = await referenceStep({ backend: "cpu", steps: Number(process.env.BENCH_STEPS ?? 2) });
record("transformer step on reference cpu (median)", Number(ref.msPerStep.toFixed(0)), "ms");
record("transformer step 1 on reference cpu", Number(ref.firstStepMs.toFixed(0)), "ms");

const wanted = (process.env.BENCH_SECTIONS ?? "").split(",").filter(Boolean);
const sectionsDir = join(here, "sections");
if (!wanted.includes("none") && existsSync(sectionsDir)) {
  const files = readdirSync(sectionsDir)
    .filter((f) => f.endsWith(".mjs"))
    .filter((f) => wanted.length === 0 || wanted.some((w) => f.includes(w)))
    .sort();
  for (const f of files) {
    console.log(`\n— ${f}`);
    try {
      const mod = await import(pathToFileURL(join(sectionsDir, f)).href);
      await mod.default({ tensor: T, record, referenceStep, reference: REFERENCE });
    } catch (err) {
      record(`${f}: failed (${err.message.split("\n")[0]})`, 0, "");
    }
  }
}

const out = join(here, "results.json");
writeFileSync(
  out,
  `${JSON.stringify({ date: new Date().toISOString(), node: process.version, cpus: os.cpus().length, results }, null, 2)}\n`,
);
console.log(`\nwrote ${out}`);
process.exit(0);
