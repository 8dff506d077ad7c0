// Benchmarks of @sr2se/data: shapes-world synthesis (samples/s, the 10,000-sample wall time) and
// the loading pipeline (images/s). Prints a table and writes bench-results/data.json.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { buildBenchmarks, DataLoader, readDataset, synthesize } from "@sr2se/data";

const train = Number(process.env.BENCH_TRAIN ?? 10000);
const work = await mkdtemp(join(tmpdir(), "sr2se-data-bench-"));
const results = {
  node: process.version,
  cpus: availableParallelism(),
  date: new Date().toISOString(),
  runs: [],
};

async function timed(name, fn) {
  const t0 = performance.now();
  const extra = await fn();
  const seconds = (performance.now() - t0) / 1000;
  results.runs.push({ name, seconds, ...extra });
  return { seconds, ...extra };
}

try {
  for (const size of [48, 128]) {
    const n = size === 48 ? train : Math.min(train, 2000);
    const out = join(work, `synth-${size}`);
    const r = await timed(`synth ${n} samples at ${size}px`, async () => {
      await synthesize({ out, counts: { train: n, val: 0, test: 0 }, seed: 1, config: { size } });
      return { samples: n, size };
    });
    r.samples_per_s = n / r.seconds;
    results.runs.at(-1).samples_per_s = r.samples_per_s;
    console.log(
      `synth   ${String(size).padStart(3)}px  ${n} samples  ${r.seconds.toFixed(2)} s  ${r.samples_per_s.toFixed(0)} samples/s`,
    );
  }

  const full = await readDataset(join(work, "synth-48", "train.jsonl"), { checkImages: false });
  for (const [size, concurrency] of [
    [48, 4],
    [224, 4],
  ]) {
    // The large size decodes a 2,000-image subset: it measures the same pipeline in a quarter of the time.
    const ds = size === 48 ? full : { ...full, records: full.records.slice(0, 2000) };
    const loader = new DataLoader(ds, { batchSize: 64, size, concurrency, prefetch: 2 });
    const r = await timed(`load ${ds.records.length} images to ${size}px`, async () => {
      let images = 0;
      for await (const b of loader) images += b.shape[0];
      return { images, size, concurrency };
    });
    results.runs.at(-1).images_per_s = r.images / r.seconds;
    console.log(
      `load    ${String(size).padStart(3)}px  ${r.images} images  ${r.seconds.toFixed(2)} s  ${(r.images / r.seconds).toFixed(0)} images/s`,
    );
  }

  const b = await timed("bench sets (default counts)", async () => {
    const m = await buildBenchmarks({ out: join(work, "bench"), seed: 1 });
    return { files: Object.keys(m.files).length };
  });
  console.log(`bench   default sets  ${b.seconds.toFixed(2)} s`);
} finally {
  await rm(work, { recursive: true, force: true });
}
await mkdir(new URL("../bench-results/", import.meta.url), { recursive: true });
await writeFile(
  new URL("../bench-results/data.json", import.meta.url),
  `${JSON.stringify(results, null, 2)}\n`,
);
console.log("wrote bench-results/data.json");
