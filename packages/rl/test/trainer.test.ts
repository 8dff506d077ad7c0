import { spawn } from "node:child_process";
import { appendFile, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { MetricsRow } from "@sr2se/core";
import { useFastestBackend } from "@sr2se/vlm";
import { beforeAll, describe, expect, it } from "vitest";
import { type GrpoConfig, type GrpoSample, stepPrompts, trainGrpo } from "../src/tensor.js";
import { tinyRun } from "./tiny.js";

let run: { root: string; ckpt: string; train: GrpoSample[]; val: GrpoSample[] };

beforeAll(async () => {
  await useFastestBackend();
  run = await tinyRun();
}, 120_000);

const SMALL: Partial<GrpoConfig> = {
  steps: 6,
  prompts_per_step: 2,
  n: 4,
  max_response_tokens: 20,
  micro_batch_size: 4,
  eval_every: 3,
  eval_prompts: 4,
  save_every: 2,
  lr: 1e-3,
};

const rows = async (out: string): Promise<MetricsRow[]> =>
  (await readFile(join(out, "logs", "grpo.jsonl"), "utf8"))
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));

/** The columns that must repeat exactly on a resumed run (timings and throughput do not). */
const repeatable = (r: MetricsRow) =>
  Object.fromEntries(Object.entries(r).filter(([k]) => !k.startsWith("timing_s/") && !k.startsWith("perf/")));

describe("trainGrpo", () => {
  it("logs verl's metrics and the hacking signals each step, val/* before the first step and every eval_every", async () => {
    const out = join(run.root, "sr1");
    const result = await trainGrpo({ ...run, out, reward: "vision-sr1", config: SMALL, progress: false });
    expect(result.steps).toBe(6);
    const log = await rows(out);
    expect(log.map((r) => r.step)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    for (const k of [
      "actor/pg_loss",
      "actor/pg_clipfrac_higher",
      "actor/pg_clipfrac_lower",
      "actor/ppo_kl",
      "actor/kl_loss",
      "actor/entropy_loss",
      "actor/grad_norm",
      "actor/lr",
      "critic/score/mean",
      "critic/advantages/mean",
      "critic/advantages/max",
      "response_length/mean",
      "response_length/clip_ratio",
      "prompt_length/mean",
      "reward/overall",
      "reward/accuracy",
      "reward/format",
      "reward/description_accuracy",
      "hacking/description_leak",
      "hacking/response_length_ratio",
      "timing_s/gen",
      "timing_s/description",
      "timing_s/ref",
      "timing_s/update_actor",
      "perf/live_tensors",
    ])
      expect(log[1], k).toHaveProperty([k]);
    for (const s of [0, 3, 6]) expect(log[s]).toHaveProperty(["val/reward_score"]);
    expect(log[1]).not.toHaveProperty(["val/reward_score"]);
    // on-policy (one mini-batch): the old log-probs are the update's own, so the ratio is exactly 1
    expect(log[1]["actor/ppo_kl"]).toBe(0);
    expect(log[1]["actor/pg_clipfrac_higher"]).toBe(0);
    // the policy starts as the reference: no KL on the first step, some after the update
    expect(log[1]["actor/kl_loss"]).toBe(0);
    expect(Number(log[6]["actor/kl_loss"])).toBeGreaterThan(0);
    // GRPO's advantages are centred within each group
    expect(Math.abs(Number(log[1]["critic/advantages/mean"]))).toBeLessThan(1e-6);
    expect(log[1]["hacking/response_length_ratio"]).toBe(1);
    const state = JSON.parse(await readFile(join(out, "checkpoint", "trainer_state.json"), "utf8"));
    expect(state.step).toBe(6);
    expect(state.reward).toBe("vision-sr1");
  }, 300_000);

  it("keeps live tensors flat from step to step", async () => {
    const out = join(run.root, "flat");
    await trainGrpo({
      ...run,
      out,
      reward: "accuracy",
      config: { ...SMALL, steps: 8, eval_every: 0 },
      progress: false,
    });
    const live = (await rows(out)).map((r) => r["perf/live_tensors"]);
    // step 1 creates AdamW's moments; from then on nothing may accumulate
    expect(new Set(live.slice(1)).size).toBe(1);
    expect(new Set((await rows(out)).slice(1).map((r) => r["perf/live_bytes"])).size).toBe(1);
  }, 300_000);

  it("raises the mean reward (a custom reward that pays for short responses)", async () => {
    const out = join(run.root, "learn");
    const max = 20;
    await trainGrpo({
      ...run,
      out,
      reward: ({ response }) => ({ overall: 1 - response.length / (4 * max), format: 0, accuracy: 0 }),
      config: { ...SMALL, steps: 12, prompts_per_step: 4, eval_every: 0, lr: 1e-2, kl_coef: 0 },
      progress: false,
    });
    const log = await rows(out);
    const mean = (rs: MetricsRow[]) =>
      rs.reduce((a, r) => a + Number(r["response_length/mean"]), 0) / rs.length;
    expect(mean(log.slice(-3))).toBeLessThan(0.8 * mean(log.slice(0, 3)));
  }, 300_000);

  it("resumes after SIGKILL with the same metrics rows as an uninterrupted run", async () => {
    const config = { ...SMALL, steps: 5, save_every: 2, eval_every: 2 };
    // every run is its own process on the built package, as `sr2se train grpo` runs
    const child = (out: string, opts: { resume?: boolean; killAfter?: number }) => {
      const script = `
        import { readDataset } from "@sr2se/data";
        import { trainGrpo } from "@sr2se/rl/tensor";
        const samples = async (f) => (await readDataset(f, { checkImages: false })).records.map((r) => ({ id: r.sample.id, image: r.imagePath, question: r.sample.question, answer: r.sample.answer }));
        await trainGrpo({ ckpt: ${JSON.stringify(run.ckpt)}, out: ${JSON.stringify(out)}, reward: "vision-sr1",
          train: await samples(${JSON.stringify(join(run.root, "data", "train.jsonl"))}),
          val: await samples(${JSON.stringify(join(run.root, "data", "val.jsonl"))}),
          config: ${JSON.stringify(config)}, progress: false, resume: ${!!opts.resume},
          onStep: (row) => { if (row.step === ${opts.killAfter ?? -1}) process.kill(process.pid, "SIGKILL"); } });
      `;
      return new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
        const p = spawn(process.execPath, ["--input-type=module", "-e", script], {
          cwd: join(import.meta.dirname, ".."),
          stdio: ["ignore", "ignore", "inherit"],
        });
        p.on("error", reject);
        p.on("exit", (code, signal) => resolve({ code, signal }));
      });
    };
    const reference = join(run.root, "reference");
    expect((await child(reference, {})).code).toBe(0);
    // killed after step 3: the checkpoint of step 2 is on disk, step 3 is lost and runs again
    const killed = join(run.root, "killed");
    expect((await child(killed, { killAfter: 3 })).signal).toBe("SIGKILL");
    expect((await rows(killed)).map((r) => r.step)).toEqual([0, 1, 2, 3]);
    // a torn last line, as a kill during an append leaves
    await appendFile(join(killed, "logs", "grpo.jsonl"), '{"step": 4, "actor/pg_loss": 0.');
    expect((await child(killed, { resume: true })).code).toBe(0);
    const a = (await rows(reference)).map(repeatable);
    const b = (await rows(killed)).map(repeatable);
    expect(b.map((r) => r.step)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(b).toEqual(a);
  }, 600_000);
});

describe("trainGrpo input", () => {
  it("refuses a bad config naming the field", async () => {
    await expect(
      trainGrpo({ ...run, out: join(run.root, "bad"), config: { n: 1 }, progress: false }),
    ).rejects.toThrow(/n is 1; GRPO needs rollout.n > 1/);
    await expect(
      trainGrpo({
        ...run,
        out: join(run.root, "bad"),
        config: { prompts_per_step: 3, n: 3, mini_batches: 2 },
        progress: false,
      }),
    ).rejects.toThrow(/do not split into 2 equal mini-batches/);
    await expect(
      trainGrpo({
        ...run,
        out: join(run.root, "bad"),
        config: { stpes: 3 } as Partial<GrpoConfig>,
        progress: false,
      }),
    ).rejects.toThrow(/unknown field "stpes"/);
  });

  it("refuses no prompts, and a resume with another reward", async () => {
    await expect(
      trainGrpo({ ...run, train: [], out: join(run.root, "none"), progress: false }),
    ).rejects.toThrow(/no training prompts/);
    const out = join(run.root, "switch");
    await trainGrpo({
      ...run,
      out,
      reward: "accuracy",
      config: { ...SMALL, steps: 1, eval_every: 0 },
      progress: false,
    });
    await expect(
      trainGrpo({
        ...run,
        out,
        reward: "vision-sr1",
        config: { ...SMALL, steps: 2 },
        resume: true,
        progress: false,
      }),
    ).rejects.toThrow(/trained with the accuracy reward, this one asks for vision-sr1/);
  }, 120_000);

  it("takes each step's prompts from seeded epoch shuffles, every prompt once an epoch", () => {
    const epoch = [0, 1, 2].flatMap((s) => stepPrompts(6, 2, 7, s));
    expect([...epoch].sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(stepPrompts(6, 2, 7, 1)).toEqual(stepPrompts(6, 2, 7, 1));
    expect(stepPrompts(6, 4, 7, 1)).toEqual([...stepPrompts(6, 2, 7, 2), ...stepPrompts(6, 2, 7, 3)]);
  });
});
