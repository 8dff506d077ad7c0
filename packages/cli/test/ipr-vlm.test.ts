import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { extractBoxed } from "@sr2se/core";
import { expect, it } from "vitest";
import { sr2seAsync as sr2se } from "./cli.js";
import { EXISTENCE_WORLD, TINY_SFT } from "./tiny-vlm.js";

const dir = mkdtempSync(path.join(tmpdir(), "sr2se-ipr-vlm-"));

/** Whether a boxed answer commits to `word` (yes/no): it starts with it and never says the other. */
const commitsTo = (content: string | null, word: string) => {
  const words = (content ?? "").toLowerCase().match(/[a-z]+/g) ?? [];
  const other = word === "yes" ? ["no", "not"] : ["yes"];
  return words[0] === word && !words.some((w) => other.includes(w));
};

it("turns a real VLM's wrong answers into pairs: rejected wrong, chosen right", async () => {
  const world = path.join(dir, "world.json");
  // Yes/no existence questions only, so a barely trained model is right often enough to be corrected.
  writeFileSync(world, JSON.stringify(EXISTENCE_WORLD));
  const data = path.join(dir, "data");
  const synth = await sr2se([
    "data",
    "synth",
    "--out",
    data,
    "--train",
    "48",
    "--val",
    "4",
    "--test",
    "4",
    "--seed",
    "11",
    "--config",
    world,
  ]);
  expect(synth.status, synth.stderr).toBe(0);

  const tiny = path.join(dir, "tiny.json");
  writeFileSync(tiny, JSON.stringify(TINY_SFT));
  const sft = path.join(dir, "sft");
  const train = await sr2se(["train", "sft", "--data", data, "--out", sft, "--config", tiny]);
  expect(train.status, train.stderr).toBe(0);

  const pairsFile = path.join(dir, "pairs.jsonl");
  const ipr = await sr2se([
    "ipr",
    "generate",
    "--data",
    path.join(data, "train.jsonl"),
    "--ckpt",
    sft,
    "--out",
    pairsFile,
    "--rounds",
    "3",
    "--samples",
    "2",
    "--temperature",
    "1",
    "--format",
    "off",
    "--no-self-reward",
    "--seed",
    "3",
  ]);
  expect(ipr.status, ipr.stderr).toBe(0);

  const gold = new Map(
    readFileSync(path.join(data, "train.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l))
      .map((s) => [s.id, s.answer as string]),
  );
  const pairs = readFileSync(pairsFile, "utf8")
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));
  expect(pairs.length).toBeGreaterThan(0);
  for (const p of pairs) {
    const answer = gold.get(p.sample_id);
    expect(["yes", "no"]).toContain(answer);
    expect(commitsTo(extractBoxed(p.chosen), answer as string)).toBe(true);
    expect(commitsTo(extractBoxed(p.rejected), answer as string)).toBe(false);
    expect(p.meta.chosen_correct).toBe(true);
    expect(p.meta.rejected_correct).toBe(false);
  }
  const stats = JSON.parse(readFileSync(path.join(dir, "pairs.stats.json"), "utf8"));
  expect(stats.pairs).toBe(pairs.length);

  // SR-DPO on those pairs against the frozen SFT checkpoint, killed-and-resumed style in two runs.
  const sha = (f: string) => createHash("sha256").update(readFileSync(f)).digest("hex");
  const sftWeights = path.join(sft, "checkpoint", "model.safetensors");
  const before = sha(sftWeights);
  const out = path.join(dir, "sr-dpo");
  const common = ["train", "sr-dpo", "--ckpt", sft, "--pairs", pairsFile, "--images", data, "--out", out];
  const recipe = ["--batch-size", "4", "--save-every", "6", "--lr", "0.002", "--warmup", "2"];
  const first = await sr2se([...common, "--steps", "12", ...recipe]);
  expect(first.status, first.stderr).toBe(0);
  const half = readFileSync(path.join(out, "logs", "sr-dpo.jsonl"), "utf8")
    .trim()
    .split("\n");
  expect(half).toHaveLength(12);
  const resumed = await sr2se([...common, "--steps", "24", ...recipe, "--resume"]);
  expect(resumed.status, resumed.stderr).toBe(0);
  const rows = readFileSync(path.join(out, "logs", "sr-dpo.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  expect(rows.map((r) => r.step)).toEqual(Array.from({ length: 24 }, (_, i) => i + 1));
  for (const key of [
    "loss",
    "rewards/chosen",
    "rewards/rejected",
    "rewards/accuracies",
    "rewards/margins",
    "logps/chosen",
    "logps/rejected",
  ])
    expect(Number.isFinite(rows[23][key]), key).toBe(true);
  // The policy learned to prefer its corrections; the reference on disk is untouched.
  const early = rows.slice(0, 4).reduce((a, r) => a + r["rewards/margins"], 0) / 4;
  const late = rows.slice(-4).reduce((a, r) => a + r["rewards/margins"], 0) / 4;
  expect(late).toBeGreaterThan(early);
  expect(sha(sftWeights)).toBe(before);
  // The trained checkpoint answers questions.
  const pred = path.join(dir, "pred.jsonl");
  const p = await sr2se([
    "predict",
    "--ckpt",
    out,
    "--data",
    path.join(data, "test.jsonl"),
    "--out",
    pred,
    "--max-tokens",
    "48",
  ]);
  expect(p.status, p.stderr).toBe(0);
  expect(readFileSync(pred, "utf8").trim().split("\n")).toHaveLength(4);
}, 600_000);
