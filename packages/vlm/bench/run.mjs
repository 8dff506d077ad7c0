// npm run bench -w @sr2se/vlm: training tokens/s, generation tokens/s at batch 1 and 32 (KV cache),
// and peak memory, for the default config on the fastest backend here. Prints a table, writes
// bench/results.json. Pass a checkpoint folder as the first argument to time a trained model.
// Where Debian's PyTorch is present (/usr/bin/python3 can import torch), scripts/vlm_step_torch.py
// times the same shapes in PyTorch in the same sitting (one thread and every core) and the table
// gives the ratios.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Rng } from "@sr2se/core";
import { generateSample, resolveWorldConfig } from "@sr2se/data";
import { defaultBackend, memory, optim, tidy } from "@sr2se/tensor";
import {
  configureOptimizers,
  corpusOf,
  DEFAULT_TRAINING,
  encodeChat,
  resolveModelConfig,
  trainBpe,
  useFastestBackend,
  VLM,
  VlmTokenizer,
} from "../dist/index.js";

const here = dirname(fileURLToPath(import.meta.url));
const backend = await useFastestBackend();
const world = resolveWorldConfig();
const root = new Rng(0);
const samples = Array.from({ length: 400 }, (_, i) => generateSample(root, "bench", i, world).sample);

let vlm;
if (process.argv[2]) vlm = await VLM.load(process.argv[2]);
else {
  const tok = VlmTokenizer.fromJSON(trainBpe(corpusOf(samples), { vocabSize: DEFAULT_TRAINING.vocab_size }));
  vlm = new VLM(resolveModelConfig(tok), tok);
}
const S = vlm.config.vision_config.image_size;
const rng = new Rng(1);
const pixels = () => Float32Array.from({ length: 3 * S * S }, () => rng.float(-1, 1));
const imageTokens = (S / vlm.config.vision_config.patch_size) ** 2;
const results = [];
const record = (name, value, unit) => {
  const v = Math.round(value * 100) / 100;
  results.push({ name, value: v, unit });
  console.log(`${name.padEnd(64)} ${String(v).padStart(10)} ${unit}`);
};
let peakHeap = 0;
const sampleMemory = () => {
  peakHeap = Math.max(peakHeap, defaultBackend().memoryInfo?.().bytesAllocated ?? memory().bytes);
};

console.log(`backend ${backend}, ${vlm.parameters().reduce((a, p) => a + p.size, 0)} parameters`);

// training as SFT runs it: forward + backward + clipping + AdamW on batches of 16 real shapes-world
// examples, the vision tower frozen (SFT's default after vision pretraining)
const B = DEFAULT_TRAINING.batch_size;
const optimizer = configureOptimizers(vlm, {
  lr: 1e-4,
  weightDecay: DEFAULT_TRAINING.weight_decay,
  lrScale: (name) => (name.startsWith("vision_tower.") ? DEFAULT_TRAINING.vision_lr_scale : 1),
});
const trainable = vlm.parameters().filter((p) => p.requiresGrad);
const batches = Array.from({ length: 12 }, (_, b) =>
  samples.slice(b * B, b * B + B).map((s) => {
    const e = encodeChat(
      vlm.tokenizer,
      [
        { role: "user", content: s.question },
        { role: "assistant", content: s.response },
      ],
      { image: true },
    );
    return { ids: e.ids, labels: e.labels, pixels: pixels() };
  }),
);
let tokens = 0;
let t0 = 0;
for (let i = 0; i < batches.length; i++) {
  if (i === 2) {
    t0 = performance.now();
    tokens = 0;
  }
  const loss = tidy(() => {
    const { loss } = vlm.loss(batches[i]);
    loss.backward();
    return loss.detach();
  });
  await loss.item();
  loss.dispose();
  const norm = optim.clipGradNorm(trainable, 1);
  await norm.item();
  norm.dispose();
  optimizer.step();
  optimizer.zeroGrad();
  tokens += batches[i].reduce((a, s) => a + s.ids.length - 1 + imageTokens, 0);
  sampleMemory();
}
record("train tokens/s (batch 16)", (tokens / (performance.now() - t0)) * 1000, "tokens/s");
record("train step", (performance.now() - t0) / (batches.length - 2), "ms");

// generation: greedy, KV cache, fixed length so every row decodes the same number of tokens;
// the median of three warm runs
for (const batch of [1, 32]) {
  const requests = samples
    .slice(0, batch)
    .map((s) => ({ messages: [{ role: "user", content: s.question }], pixels: pixels() }));
  // warm up the JIT and WebAssembly tiers first (a cold first run is several times slower),
  // then report the median of three runs
  await vlm.generateFromPixels(requests, { maxTokens: 64, batchSize: batch, stop: [] });
  const rates = [];
  for (let run = 0; run < 3; run++) {
    const start = performance.now();
    const gens = await vlm.generateFromPixels(requests, { maxTokens: 64, batchSize: batch, stop: [] });
    const ms = performance.now() - start;
    sampleMemory();
    rates.push((gens.reduce((a, g) => a + g.tokens, 0) / ms) * 1000);
  }
  record(`generate tokens/s (batch ${batch}, KV cache)`, rates.sort((a, b) => a - b)[1], "tokens/s");
}
record("peak backend memory", peakHeap / 2 ** 20, "MiB");
record("peak resident set", process.resourceUsage().maxRSS / 1024, "MiB");

/** PyTorch's figures for the same shapes with `threads` threads, or null where torch is missing. */
function torchFigures(threads) {
  const script = join(here, "..", "scripts", "vlm_step_torch.py");
  if (!existsSync("/usr/bin/python3")) return null;
  try {
    execFileSync("/usr/bin/python3", ["-c", "import torch"], { stdio: "ignore" });
  } catch {
    return null;
  }
  const env = { ...process.env, OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads) };
  const out = execFileSync("/usr/bin/python3", [script, String(threads)], {
    encoding: "utf8",
    timeout: 900_000,
    env,
  });
  return JSON.parse(out.trim().split("\n").pop());
}

const cores = os.availableParallelism?.() ?? os.cpus().length;
const torchRuns = [...new Set([1, cores])].map(torchFigures).filter((r) => r !== null);
if (torchRuns.length === 0)
  console.log("PyTorch: not found (apt install python3-torch: /usr/bin/python3 -c 'import torch')");
const ours = Object.fromEntries(results.map((r) => [r.name, r.value]));
const sideBySide = [
  ["train step", "train_step_ms", ours["train step"], false],
  [
    "generate tokens/s (batch 1, KV cache)",
    "generate_batch_1_tokens_per_s",
    ours["generate tokens/s (batch 1, KV cache)"],
    true,
  ],
  [
    "generate tokens/s (batch 32, KV cache)",
    "generate_batch_32_tokens_per_s",
    ours["generate tokens/s (batch 32, KV cache)"],
    true,
  ],
];
for (const t of torchRuns) {
  for (const [label, key] of sideBySide)
    record(
      `PyTorch ${t.torch}, ${t.threads} thread(s): ${label}`,
      t[key],
      key.endsWith("_ms") ? "ms" : "tokens/s",
    );
}
if (torchRuns.length > 0) {
  // against PyTorch's best thread count for each workload; > 1: sr2se is that many times slower
  for (const [label, key, mine, higherIsBetter] of sideBySide) {
    const best = higherIsBetter
      ? Math.max(...torchRuns.map((t) => t[key]))
      : Math.min(...torchRuns.map((t) => t[key]));
    record(`slowdown vs best PyTorch: ${label}`, higherIsBetter ? best / mine : mine / best, "x");
  }
}
await writeFile(join(here, "results.json"), `${JSON.stringify({ backend, results }, null, 2)}\n`);
process.exit(0);
