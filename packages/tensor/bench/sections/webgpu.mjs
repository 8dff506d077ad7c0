// WebGPU section of `npm run bench -w @sr2se/tensor`: matmul and the reference transformer step on
// our WebGPU backend and on tfjs-backend-webgpu over the same Dawn adapter, their ratios, the first
// step with a cold Mesa shader cache, the pipelines a step uses, and bytes in use over 500 steps.
// Runs alone too: `node bench/sections/webgpu.mjs` (after `npm run build`; writes bench/results.json).
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { REFERENCE } from "../reference.mjs";

/** A small model for the 500-step memory check. */
export const SMALL = { vocabSize: 128, dModel: 64, nLayers: 2, nHeads: 4, ffnHidden: 256, seq: 32, batch: 4 };
const MATMULS = [
  [256, 256, 256],
  [1024, 1024, 1024],
  [2048, 2048, 2048],
  [2048, 256, 1024],
];

/** Returns a Dawn GPU object installed as navigator.gpu, so our backend and tfjs share it. */
export async function installDawn() {
  const nav = globalThis.navigator;
  if (nav?.gpu) return nav.gpu;
  const { create, globals } = await import("webgpu");
  for (const [k, v] of Object.entries(globals)) if (!(k in globalThis)) globalThis[k] = v;
  const gpu = create([]);
  Object.defineProperty(globalThis, "navigator", {
    value: { ...(nav ?? {}), gpu },
    configurable: true,
    writable: true,
  });
  return gpu;
}

function tokens(cfg, seed) {
  let s = seed >>> 0 || 1;
  const n = cfg.batch * cfg.seq;
  const ids = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    ids[i] = s % cfg.vocabSize;
  }
  return ids;
}

/** Returns { step(): Promise<number> }: one training step (forward, backward, AdamW) of part 1's TransformerLM, awaiting the loss. */
export function buildOurs(T, cfg) {
  const model = new T.nn.TransformerLM(cfg, { seed: 1 });
  const opt = new T.optim.AdamW(model.parameters(), { lr: 3e-4, weightDecay: 0.1 });
  const ids = T.tensor(tokens(cfg, 1), { dtype: "int32" }).reshape([cfg.batch, cfg.seq]);
  const targets = T.tensor(tokens(cfg, 2), { dtype: "int32" }).reshape([cfg.batch, cfg.seq]);
  return {
    async step() {
      const loss = T.tidy(() => model.loss(ids, targets));
      loss.backward();
      opt.step();
      opt.zeroGrad();
      const v = await loss.item();
      loss.dispose();
      return v;
    },
  };
}

/**
 * Returns { step(): Promise<number> } for the same model in tfjs: embedding, per layer RMSNorm,
 * q/k/v/o projections with bias, rotary embedding, causal softmax attention, RMSNorm, SwiGLU; final
 * RMSNorm and an unbiased head; Adam (tfjs has no AdamW).
 */
export function buildTfjs(tf, cfg) {
  const d = cfg.dModel;
  const hd = d / cfg.nHeads;
  const N = cfg.batch * cfg.seq;
  const lin = (i, o, bias = true) => ({
    w: tf.variable(tf.randomUniform([i, o], -1 / Math.sqrt(i), 1 / Math.sqrt(i), "float32", 7)),
    b: bias ? tf.variable(tf.zeros([o])) : null,
  });
  const apply = (l, x) => (l.b ? tf.add(tf.matMul(x, l.w), l.b) : tf.matMul(x, l.w));
  const P = {
    embed: tf.variable(tf.randomNormal([cfg.vocabSize, d], 0, 1, "float32", 1)),
    norm: tf.variable(tf.ones([d])),
    head: lin(d, cfg.vocabSize, false),
    layers: Array.from({ length: cfg.nLayers }, () => ({
      n1: tf.variable(tf.ones([d])),
      q: lin(d, d),
      k: lin(d, d),
      v: lin(d, d),
      o: lin(d, d),
      n2: tf.variable(tf.ones([d])),
      gate: lin(d, cfg.ffnHidden, false),
      up: lin(d, cfg.ffnHidden, false),
      down: lin(cfg.ffnHidden, d, false),
    })),
  };
  const rms = (x, w) => tf.mul(tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), 1e-6))), w);
  const half = hd / 2;
  const inv = Array.from({ length: half }, (_, i) => 10000 ** (-(2 * i) / hd));
  const ang = Array.from({ length: cfg.seq }, (_, p) => [...inv, ...inv].map((f) => p * f));
  const cos = tf.tensor2d(ang.map((r) => r.map(Math.cos)));
  const sin = tf.tensor2d(ang.map((r) => r.map(Math.sin)));
  const rope = (x) => {
    const [x1, x2] = tf.split(x, 2, -1);
    return tf.add(tf.mul(x, cos), tf.mul(tf.concat([tf.neg(x2), x1], -1), sin));
  };
  const heads = (x) => tf.transpose(tf.reshape(x, [cfg.batch, cfg.seq, cfg.nHeads, hd]), [0, 2, 1, 3]);
  const mask = tf.mul(tf.sub(tf.linalg.bandPart(tf.ones([cfg.seq, cfg.seq]), -1, 0), 1), 1e9);
  const ids = tf.tensor1d(tokens(cfg, 1), "int32");
  const targets = tf.oneHot(tf.tensor1d(tokens(cfg, 2), "int32"), cfg.vocabSize);
  const opt = tf.train.adam(3e-4);
  const lossFn = () => {
    let x = tf.gather(P.embed, ids);
    for (const b of P.layers) {
      const h = rms(x, b.n1);
      const q = rope(heads(apply(b.q, h)));
      const k = rope(heads(apply(b.k, h)));
      const v = heads(apply(b.v, h));
      const s = tf.add(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(hd)), mask);
      const a = tf.reshape(tf.transpose(tf.matMul(tf.softmax(s), v), [0, 2, 1, 3]), [N, d]);
      x = tf.add(x, apply(b.o, a));
      const h2 = rms(x, b.n2);
      const g = apply(b.gate, h2);
      x = tf.add(x, apply(b.down, tf.mul(tf.mul(g, tf.sigmoid(g)), apply(b.up, h2))));
    }
    return tf.losses.softmaxCrossEntropy(targets, apply(P.head, rms(x, P.norm)));
  };
  return {
    async step() {
      const loss = opt.minimize(lossFn, true);
      const v = (await loss.data())[0];
      loss.dispose();
      return v;
    },
  };
}

const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];

/**
 * Times two matmul implementations on one shape, alternating them run by run so that both see the
 * same machine load (this machine is shared); resolves to their median ms.
 */
async function timeMatmulPair(makeA, makeB, [M, K, N]) {
  const sides = [makeA(M, K, N), makeB(M, K, N)];
  for (const s of sides) {
    const t = s.run();
    await s.read(t);
    s.dispose(t);
  }
  const reps = M * K * N >= 2048 ** 3 ? 3 : M * K * N >= 1024 ** 3 ? 5 : 9;
  const times = [[], []];
  for (let i = 0; i < reps; i++) {
    for (const [j, s] of sides.entries()) {
      const t0 = performance.now();
      const t = s.run();
      await s.read(t);
      times[j].push(performance.now() - t0);
      s.dispose(t);
    }
  }
  return times.map(median);
}

/** Times training steps of two models alternately after one warm-up step each; resolves to their median ms. */
async function timeStepPair(a, b, n) {
  await a.step();
  await b.step();
  const times = [[], []];
  for (let i = 0; i < n; i++) {
    for (const [j, m] of [a, b].entries()) {
      const t0 = performance.now();
      await m.step();
      times[j].push(performance.now() - t0);
    }
  }
  return times.map(median);
}

/**
 * Returns tfjs-core with all its gradients and tfjs-backend-webgpu registered on navigator.gpu. Its
 * Node entry lacks the gradient registrations, so the ES modules are bundled into one instance.
 */
export async function loadTfjs() {
  await installDawn();
  const { build } = await import("esbuild");
  const out = join(mkdtempSync(join(tmpdir(), "sr2se-tfjs-")), "tfjs.mjs");
  await build({
    stdin: {
      contents: [
        'export * from "@tensorflow/tfjs-core";',
        'import "@tensorflow/tfjs-core/dist/register_all_gradients";',
        'import "@tensorflow/tfjs-backend-webgpu";',
      ].join("\n"),
      resolveDir: fileURLToPath(new URL("../..", import.meta.url)),
      loader: "js",
    },
    bundle: true,
    format: "esm",
    platform: "node",
    mainFields: ["module", "main"],
    outfile: out,
    banner: {
      js: 'import { createRequire } from "node:module"; const require = createRequire(import.meta.url);',
    },
    logLevel: "error",
  });
  const tf = await import(pathToFileURL(out).href);
  await tf.setBackend("webgpu");
  await tf.ready();
  return tf;
}

/** Runs only the first training step on our backend and prints its time as JSON (the cold-cache child). */
async function firstStepOnly(T) {
  await installDawn();
  await T.init({ device: "webgpu" });
  const model = buildOurs(T, REFERENCE);
  const t0 = performance.now();
  await model.step();
  console.log(JSON.stringify({ step1Ms: performance.now() - t0 }));
}

/** The section: `ctx.record(name, value, unit)` collects the figures; `ctx.tensor` is the built package. */
export default async function webgpuSection(ctx) {
  const T = ctx.tensor;
  // figures to the precision they carry: ratios 2 decimals, GFLOP/s 1, ms whole
  const digits = { "×": 2, "GFLOP/s": 1, ms: 0 };
  const record = (name, value, unit) =>
    ctx.record(name, unit in digits ? Number(value.toFixed(digits[unit])) : value, unit);
  const previous = T.defaultBackend().name;
  await installDawn();
  let backend;
  try {
    backend = await T.init({ device: "webgpu" });
  } catch (err) {
    console.log(`webgpu section skipped: ${err.message}`);
    return;
  }
  const rt = backend.runtime;
  const a = backend.adapter;
  console.log(
    `webgpu adapter: ${a.vendor} ${a.architecture} ${a.description} (fallback ${a.isFallbackAdapter}, matmul ${a.matmulVariant})`,
  );
  const tf = await loadTfjs();

  const ours = (M, K, N) => {
    const x = T.randn([M, K], { seed: 1 });
    const y = T.randn([K, N], { seed: 2 });
    return { run: () => x.matmul(y), read: (t) => t.data(), dispose: (t) => t.dispose() };
  };
  const theirs = (M, K, N) => {
    const x = tf.randomNormal([M, K]);
    const y = tf.randomNormal([K, N]);
    return { run: () => tf.matMul(x, y), read: (t) => t.data(), dispose: (t) => t.dispose() };
  };
  for (const shape of MATMULS) {
    const [M, K, N] = shape;
    const name = M === K && K === N ? `${M}³` : `${M}×${K}×${N}`;
    const [mine, tfm] = await timeMatmulPair(ours, theirs, shape);
    const gf = (ms) => (2 * M * K * N) / ms / 1e6;
    record(`webgpu matmul ${name}`, gf(mine), "GFLOP/s");
    record(`tfjs-webgpu matmul ${name}`, gf(tfm), "GFLOP/s");
    record(`webgpu/tfjs matmul ${name}`, tfm / mine, "×");
  }

  const reference = ctx.reference ?? REFERENCE;
  const model = buildOurs(T, reference);
  const t1 = performance.now();
  await model.step();
  record("webgpu step 1 (warm Mesa cache)", performance.now() - t1, "ms");
  rt.resetPipelineUse();
  const before = rt.counters.submits;
  await model.step();
  record("webgpu pipelines used by a step", rt.pipelinesUsed.size, "pipelines");
  record("webgpu submits per step", rt.counters.submits - before, "submits");
  const tfModel = buildTfjs(tf, reference);
  const [ourStep, tfStep] = await timeStepPair(model, tfModel, 3);
  record("webgpu reference transformer step", ourStep, "ms");
  record("tfjs-webgpu reference transformer step", tfStep, "ms");
  record("webgpu step / tfjs step", ourStep / tfStep, "×");

  const self = fileURLToPath(import.meta.url);
  const child = spawnSync(process.execPath, [self, "--first-step"], {
    env: { ...process.env, MESA_SHADER_CACHE_DISABLE: "true" },
    encoding: "utf8",
    timeout: 600_000,
  });
  const line = (child.stdout ?? "").split("\n").find((l) => l.startsWith("{"));
  if (line) record("webgpu step 1 (cold shader cache)", JSON.parse(line).step1Ms, "ms");
  else console.log(`cold-cache child failed: ${(child.stderr ?? "").slice(-500)}`);

  const steps = Number(process.env.SR2SE_BENCH_MEMORY_STEPS ?? 500);
  const small = buildOurs(T, SMALL);
  let at10 = 0;
  for (let i = 1; i <= steps; i++) {
    await small.step();
    if (i === 10) at10 = backend.memoryInfo().bytesInUse;
  }
  const end = backend.memoryInfo();
  record(`webgpu bytes in use after step 10 (small model)`, at10, "bytes");
  record(`webgpu bytes in use after step ${steps} (small model)`, end.bytesInUse, "bytes");
  record(`webgpu bytes allocated after step ${steps}`, end.bytesAllocated, "bytes");
  record("webgpu distinct pipelines compiled", rt.pipelineCount, "pipelines");
  await T.init({ backend: previous });
}

const isMain = process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  const T = await import(new URL("../../dist/index.js", import.meta.url).href);
  if (process.argv.includes("--first-step")) {
    await firstStepOnly(T);
  } else {
    const rows = [];
    const record = (name, value, unit) => {
      rows.push({ name, value, unit });
      console.log(`${name.padEnd(52)} ${Number(value).toFixed(2).padStart(12)} ${unit}`);
    };
    await webgpuSection({ tensor: T, record });
    writeFileSync(new URL("../results.json", import.meta.url), `${JSON.stringify(rows, null, 2)}\n`);
  }
  process.exit(0);
}
