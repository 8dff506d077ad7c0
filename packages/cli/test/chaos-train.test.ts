// Kill anywhere, lose nothing: `train sft`, `train sr-dpo`, `train hsr-ee` and `train grpo` SIGKILLed at seeded random moments and
// resumed end exactly where an uninterrupted run ends: every log step once, the same losses, no
// leftover temporary folders or locks. SR2SE_CHAOS_KILLS raises the kills a job (CI: 3).
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import {
  chaosKills,
  killAnywhere,
  killWindow,
  leftovers,
  loggedSteps,
  runToEnd,
  startedAt,
  type TimedResult,
} from "./chaos.js";
import { EXISTENCE_WORLD, TINY_SFT } from "./tiny-vlm.js";

const dir = mkdtempSync(path.join(tmpdir(), "sr2se-chaos-train-"));
const data = path.join(dir, "data");
const KILLS = chaosKills(3);

const SFT_STEPS = 16;
const sftConfig = path.join(dir, "sft.json");
const sftRefDir = path.join(dir, "sft-ref");
let sftRef: TimedResult;

/** The `loss` of each row of a metrics log. */
const losses = (file: string) =>
  readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l).loss as number);

beforeAll(async () => {
  const world = path.join(dir, "world.json");
  writeFileSync(world, JSON.stringify(EXISTENCE_WORLD));
  writeFileSync(
    sftConfig,
    JSON.stringify({
      ...TINY_SFT,
      training: { ...TINY_SFT.training, steps: SFT_STEPS, save_every: 2, vision_pretrain_steps: 8 },
    }),
  );
  const synth = await runToEnd([
    ...["data", "synth", "--out", data, "--train", "16", "--val", "2", "--test", "2"],
    ...["--seed", "5", "--config", world],
  ]);
  expect(synth.status, synth.stderr).toBe(0);
  // the uninterrupted SFT run: the reference of the SFT test and the starting checkpoint of SR-DPO's
  sftRef = await runToEnd(["train", "sft", "--data", data, "--out", sftRefDir, "--config", sftConfig]);
  expect(sftRef.status, sftRef.stderr).toBe(0);
}, 90_000);

describe("kill anywhere", () => {
  it(`train sft survives ${KILLS} kills: each step logged once, the same losses as an uninterrupted run`, async () => {
    const ref = path.join(dir, "sft-ref");
    const uninterrupted = await runToEnd([
      "train",
      "sft",
      "--data",
      data,
      "--out",
      ref,
      "--config",
      sftConfig,
    ]);
    expect(uninterrupted.status, uninterrupted.stderr).toBe(0);

    const out = path.join(dir, "sft-chaos");
    const args = ["train", "sft", "--data", data, "--out", out, "--config", sftConfig, "--resume"];
    const r = await killAnywhere({
      args,
      kills: KILLS,
      seed: 1,
      minMs: 300,
      maxMs: killWindow(uninterrupted),
    });
    expect(r.final.status, r.final.stderr + r.killedStderr).toBe(0);
    expect(r.kills).toBeGreaterThan(0);
    // some run resumed from a checkpoint a killed run left (a kill after the first save)
    expect(Math.max(...r.resumedStderr.map((e) => startedAt(e, "sft") ?? 0))).toBeGreaterThan(0);
    const log = path.join(out, "logs", "sft.jsonl");
    expect(loggedSteps(log)).toEqual(Array.from({ length: SFT_STEPS }, (_, i) => i + 1));
    const want = losses(path.join(ref, "logs", "sft.jsonl"));
    const got = losses(log);
    for (const [i, loss] of got.entries()) expect(loss, `step ${i + 1}`).toBeCloseTo(want[i] as number, 4);
    expect(leftovers(dir).filter((p) => p.startsWith(out))).toEqual([]);
  }, 300_000);

  it(`train sr-dpo survives ${KILLS} kills: each step logged once, the same losses as an uninterrupted run`, async () => {
    const sft = sftRefDir;
    const pairs = path.join(data, "pairs.jsonl");
    const train = readFileSync(path.join(data, "train.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    writeFileSync(
      pairs,
      train
        .map((s, i) =>
          JSON.stringify({
            id: `p-${i}`,
            sample_id: s.id,
            image: s.image,
            prompt: s.question,
            chosen: `<description>${s.description ?? ""}</description><think>look</think>\\boxed{${s.answer}}`,
            rejected: `<description>nothing</description><think>guess</think>\\boxed{${s.answer === "yes" ? "no" : "yes"}}`,
          }),
        )
        .join("\n")
        .concat("\n"),
    );
    const common = ["train", "sr-dpo", "--ckpt", sft, "--pairs", pairs, "--images", data];
    const opts = [
      "--steps",
      "10",
      "--batch-size",
      "4",
      "--save-every",
      "2",
      "--lr",
      "0.002",
      "--warmup",
      "2",
    ];
    const ref = path.join(dir, "dpo-ref");
    const uninterrupted = await runToEnd([...common, "--out", ref, ...opts]);
    expect(uninterrupted.status, uninterrupted.stderr).toBe(0);

    const out = path.join(dir, "dpo-chaos");
    const args = [...common, "--out", out, ...opts, "--resume"];
    const r = await killAnywhere({
      args,
      kills: KILLS,
      seed: 2,
      minMs: 300,
      maxMs: killWindow(uninterrupted),
    });
    expect(r.final.status, r.final.stderr + r.killedStderr).toBe(0);
    expect(r.kills).toBeGreaterThan(0);
    expect(Math.max(...r.resumedStderr.map((e) => startedAt(e, "sr-dpo") ?? 0))).toBeGreaterThan(0);
    const log = path.join(out, "logs", "sr-dpo.jsonl");
    expect(loggedSteps(log)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    const want = losses(path.join(ref, "logs", "sr-dpo.jsonl"));
    for (const [i, loss] of losses(log).entries())
      expect(loss, `step ${i + 1}`).toBeCloseTo(want[i] as number, 4);
    expect(leftovers(dir).filter((p) => p.startsWith(out))).toEqual([]);
  }, 180_000);

  it(`train hsr-ee survives ${KILLS} kills: each step logged once, the same losses and the same gate`, async () => {
    const config = path.join(dir, "hsr-ee.json");
    // small enough for a test: 8 policy steps, a gate on 8 questions' trials, τ calibrated on 2
    writeFileSync(config, JSON.stringify({ max_tokens: 48, gate_steps: 20, tau_delta: 0.05 }));
    const common = ["train", "hsr-ee", "--ckpt", sftRefDir, "--data", data, "--config", config];
    const opts = [
      ...["--steps", "8", "--batch-size", "4", "--save-every", "2"],
      ...["--gate-questions", "8", "--calibration-questions", "2"],
    ];
    const ref = path.join(dir, "hsr-ee-ref");
    const uninterrupted = await runToEnd([...common, "--out", ref, ...opts]);
    expect(uninterrupted.status, uninterrupted.stderr).toBe(0);

    const out = path.join(dir, "hsr-ee-chaos");
    const r = await killAnywhere({
      args: [...common, "--out", out, ...opts, "--resume"],
      kills: KILLS,
      seed: 3,
      minMs: 300,
      maxMs: killWindow(uninterrupted),
    });
    expect(r.final.status, r.final.stderr + r.killedStderr).toBe(0);
    expect(r.kills).toBeGreaterThan(0);
    const resumedAt = r.resumedStderr.map((e) => startedAt(e, "hsr-ee") ?? 0);
    if (process.env.SR2SE_CHAOS_KILLS)
      console.info(`hsr-ee: ${r.kills} kills, reruns resumed at steps ${resumedAt.join(", ")}`);
    expect(Math.max(...resumedAt)).toBeGreaterThan(0);
    const log = path.join(out, "logs", "hsr-ee.jsonl");
    expect(loggedSteps(log)).toEqual(Array.from({ length: 8 }, (_, i) => i + 1));
    const want = losses(path.join(ref, "logs", "hsr-ee.jsonl"));
    for (const [i, loss] of losses(log).entries())
      expect(loss, `step ${i + 1}`).toBeCloseTo(want[i] as number, 4);
    // the gate trained after the last step is the uninterrupted run's, bit for bit
    const gateOf = (d: string) => readFileSync(path.join(d, "gate", "model.safetensors"));
    expect(gateOf(out).equals(gateOf(ref))).toBe(true);
    const tau = (d: string) => JSON.parse(readFileSync(path.join(d, "gate", "config.json"), "utf8")).tau_auto;
    expect(tau(out)).toBe(tau(ref));
    expect(leftovers(dir).filter((p) => p.startsWith(out))).toEqual([]);
  }, 180_000);

  it(`train grpo survives ${KILLS} kills: each step logged once, the same losses and rewards`, async () => {
    const common = ["train", "grpo", "--ckpt", sftRefDir, "--data", data, "--reward", "vision-sr1"];
    const opts = [
      ...["--steps", "10", "--prompts-per-step", "2", "--n", "2", "--max-response-tokens", "24"],
      ...["--save-every", "2", "--eval-every", "0", "--lr", "0.001"],
    ];
    const ref = path.join(dir, "grpo-ref");
    const uninterrupted = await runToEnd([...common, "--out", ref, ...opts]);
    expect(uninterrupted.status, uninterrupted.stderr).toBe(0);

    const out = path.join(dir, "grpo-chaos");
    const r = await killAnywhere({
      args: [...common, "--out", out, ...opts, "--resume"],
      kills: KILLS,
      seed: 4,
      // the steps are a few seconds after a second of loading: kills after the loading, most after a save
      minMs: Math.round(uninterrupted.workMs * 0.3),
      maxMs: killWindow(uninterrupted),
    });
    expect(r.final.status, r.final.stderr + r.killedStderr).toBe(0);
    expect(r.kills).toBeGreaterThan(0);
    const resumedAt = r.resumedStderr.map((e) => startedAt(e, "grpo") ?? 0);
    if (process.env.SR2SE_CHAOS_KILLS)
      console.info(`grpo: ${r.kills} kills, reruns resumed at steps ${resumedAt.join(", ")}`);
    expect(Math.max(...resumedAt)).toBeGreaterThan(0);
    const log = path.join(out, "logs", "grpo.jsonl");
    const trainRows = (file: string) =>
      readFileSync(file, "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as Record<string, number>)
        .filter((row) => row.loss !== undefined || row["actor/pg_loss"] !== undefined);
    const got = trainRows(log);
    const want = trainRows(path.join(ref, "logs", "grpo.jsonl"));
    expect(got.map((row) => row.step)).toEqual(want.map((row) => row.step));
    expect(new Set(got.map((row) => row.step)).size).toBe(got.length);
    for (const [i, row] of got.entries()) {
      const w = want[i] as Record<string, number>;
      for (const key of Object.keys(w).filter((k) => /loss|reward|score/.test(k) && !k.startsWith("timing")))
        expect(row[key], `step ${row.step} ${key}`).toBeCloseTo(w[key] as number, 4);
    }
    expect(leftovers(dir).filter((p) => p.startsWith(out))).toEqual([]);
  }, 180_000);

  it("a garbled log line makes train sft --resume fail naming the file and line, not a bare SyntaxError", async () => {
    const out = path.join(dir, "sft-garbled");
    cpSync(sftRefDir, out, { recursive: true });
    const log = path.join(out, "logs", "sft.jsonl");
    const lines = readFileSync(log, "utf8").split("\n");
    lines[2] = `${lines[2]?.slice(0, 10)}\u0000garbled`;
    writeFileSync(log, lines.join("\n"));
    const r = await runToEnd([
      ...["train", "sft", "--data", data, "--out", out, "--config", sftConfig],
      ...["--resume", "--steps", String(SFT_STEPS + 2)],
    ]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`${log}:3: invalid JSON`);
    expect(r.stderr).not.toMatch(/SyntaxError/);
  }, 60_000);
});
