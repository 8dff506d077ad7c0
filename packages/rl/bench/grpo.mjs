// Time of a GRPO step on a real checkpoint, rollout and update apart, and live memory over the steps.
// Usage: npm run bench:grpo -w @sr2se/rl -- CKPT DATA [STEPS] [--reward accuracy] [--out DIR]
//   CKPT: an SFT output folder; DATA: a dataset folder with train.jsonl. Default: 16 prompts × 8
//   rollouts (the default recipe), no held-out scoring, timings of every step and their medians.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readDataset } from "@sr2se/data";
import { trainGrpo } from "../dist/tensor.js";

const args = process.argv.slice(2);
const flag = (name) => {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const v = args[i + 1];
  args.splice(i, 2);
  return v;
};
const reward = flag("--reward") ?? "vision-sr1";
const out = flag("--out") ?? mkdtempSync(join(tmpdir(), "rl-bench-"));
const [ckpt, data, stepsArg] = args;
if (!ckpt || !data) {
  console.error("usage: node bench/grpo.mjs CKPT DATA [STEPS] [--reward vision-sr1|accuracy] [--out DIR]");
  process.exit(2);
}
const steps = Number(stepsArg ?? 5);
const ds = await readDataset(join(data, "train.jsonl"), { checkImages: false });
const train = ds.records.map((r) => ({
  id: r.sample.id,
  image: r.imagePath,
  question: r.sample.question,
  answer: r.sample.answer,
}));
const rows = [];
const t0 = performance.now();
await trainGrpo({
  ckpt,
  train,
  out,
  reward,
  config: { steps, eval_every: 0, save_every: 0 },
  progress: false,
  onStep: (row) => {
    rows.push(row);
    const f = (k) => (row[k] ?? 0).toFixed(2).padStart(6);
    const rollout =
      (row["timing_s/gen"] ?? 0) + (row["timing_s/description"] ?? 0) + (row["timing_s/reward"] ?? 0);
    const update =
      (row["timing_s/ref"] ?? 0) +
      (row["timing_s/old"] ?? 0) +
      (row["timing_s/adv"] ?? 0) +
      (row["timing_s/update_actor"] ?? 0);
    console.log(
      `step ${String(row.step).padStart(3)}  step ${f("timing_s/step")} s = rollout ${rollout.toFixed(2).padStart(6)} (gen ${f("timing_s/gen")}, description ${f("timing_s/description")}) + update ${update.toFixed(2).padStart(6)} (ref ${f("timing_s/ref")}, actor ${f("timing_s/update_actor")})  len ${row["response_length/mean"].toFixed(1)}  live ${row["perf/live_tensors"]} tensors ${(row["perf/live_bytes"] / 2 ** 20).toFixed(1)} MiB  rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`,
    );
  },
});
const median = (k) => {
  const v = rows
    .slice(1)
    .map((r) => r[k] ?? 0)
    .sort((a, b) => a - b);
  return v.length ? v[Math.floor(v.length / 2)] : Number.NaN;
};
const rollout = median("timing_s/gen") + median("timing_s/description") + median("timing_s/reward");
const update = median("timing_s/ref") + median("timing_s/update_actor") + median("timing_s/adv");
console.log(
  `median of steps 2..${rows.length} (${reward}): step ${median("timing_s/step").toFixed(2)} s, rollout ${rollout.toFixed(2)} s (gen ${median("timing_s/gen").toFixed(2)}, description ${median("timing_s/description").toFixed(2)}), update ${update.toFixed(2)} s (ref ${median("timing_s/ref").toFixed(2)}, actor ${median("timing_s/update_actor").toFixed(2)}); wall ${((performance.now() - t0) / 1000).toFixed(1)} s`,
);
