// `sr2se train grpo`: help with an example, one-line errors for bad input before any model loads,
// and a tiny run that writes the checkpoint and the log, then resumes.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { synthesize } from "@sr2se/data";
import { trainSft } from "@sr2se/vlm";
import { beforeAll, describe, expect, it } from "vitest";
import { tinySftModel } from "../../../test-support/tiny-vlm.js";
import { sr2seAsync, sr2seSync } from "./cli.js";
import { EXISTENCE_WORLD } from "./tiny-vlm.js";

const dir = mkdtempSync(path.join(tmpdir(), "sr2se-grpo-"));
const grpo = (args: string[]) => sr2seSync(["train", "grpo", ...args]);

describe("sr2se train grpo input", () => {
  it("has --help with an example", () => {
    const r = grpo(["--help"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("Example:");
    expect(r.stdout).toContain("sr2se train grpo --ckpt");
    expect(r.stdout).toContain("--reward <kind>");
  });

  it("refuses a reward it does not know", () => {
    const r = grpo(["--ckpt", dir, "--data", dir, "--out", path.join(dir, "o"), "--reward", "binary"]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('expected vision-sr1 or accuracy, got "binary"');
  });

  it("says when --data is not a dataset folder", () => {
    const r = grpo(["--ckpt", dir, "--data", path.join(dir, "nowhere"), "--out", path.join(dir, "o")]);
    expect(r.status).not.toBe(0);
    expect(r.stderr.trim()).toBe(
      `sr2se: ${path.join(dir, "nowhere", "train.jsonl")}: not found (--data must be a dataset folder with train.jsonl)`,
    );
  });

  it("names the file and line of a bad sample", () => {
    const data = path.join(dir, "bad-data");
    mkdirSync(data, { recursive: true });
    writeFileSync(path.join(data, "ok.png"), "");
    const file = path.join(data, "train.jsonl");
    writeFileSync(
      file,
      `${JSON.stringify({ id: "a", image: "ok.png", question: "q", answer: "yes" })}\n${JSON.stringify({ id: "b", image: "ok.png", question: "q" })}\n`,
    );
    const r = grpo(["--ckpt", dir, "--data", data, "--out", path.join(dir, "o")]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`${file}:2`);
    expect(r.stderr).toContain("answer");
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("says when --ckpt holds no checkpoint", async () => {
    const data = path.join(dir, "data-ok");
    await synthesize({ out: data, counts: { train: 4, val: 0, test: 0 }, seed: 1, config: { size: 32 } });
    const r = grpo(["--ckpt", path.join(dir, "no-ckpt"), "--data", data, "--out", path.join(dir, "o")]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`${path.join(dir, "no-ckpt")}: no checkpoint here`);
  });

  it("refuses a config field it does not know", () => {
    const cfg = path.join(dir, "bad-config.json");
    writeFileSync(cfg, JSON.stringify({ stpes: 3 }));
    const data = path.join(dir, "data-ok");
    const r = grpo(["--ckpt", dir, "--data", data, "--out", path.join(dir, "o"), "--config", cfg]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('grpo config: unknown field "stpes"');
  });
});

describe("sr2se train grpo on a tiny model", () => {
  let data: string;
  let ckpt: string;
  beforeAll(async () => {
    data = path.join(dir, "data");
    await synthesize({
      out: data,
      counts: { train: 24, val: 4, test: 0 },
      seed: 2,
      config: { size: 32, ...EXISTENCE_WORLD },
    });
    const sft = path.join(dir, "sft");
    await trainSft({
      data,
      out: sft,
      progress: false,
      config: {
        ...tinySftModel,
        training: {
          steps: 20,
          batch_size: 8,
          lr: 1e-2,
          warmup_steps: 2,
          save_every: 0,
          eval_every: 0,
          vocab_size: 300,
          vision_pretrain_steps: 0,
        },
      },
    });
    ckpt = sft;
  }, 120_000);

  it("trains, logs verl's metrics, prints a summary, and resumes to more steps", async () => {
    const out = path.join(dir, "grpo");
    const small = [
      "--prompts-per-step",
      "2",
      "--n",
      "2",
      "--max-response-tokens",
      "12",
      "--eval-every",
      "2",
      "--eval-prompts",
      "2",
      "--save-every",
      "1",
    ];
    const run = ["train", "grpo", "--ckpt", ckpt, "--data", data, "--out", out];
    const r = await sr2seAsync([...run, "--steps", "2", ...small]);
    expect(r.status, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout.trim());
    expect(summary.steps).toBe(2);
    expect(summary.checkpoint).toBe(path.join(out, "checkpoint"));
    expect(r.stderr).toContain("grpo: backend");
    const rows = () =>
      readFileSync(path.join(out, "logs", "grpo.jsonl"), "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l));
    expect(rows().map((x) => x.step)).toEqual([0, 1, 2]);
    expect(rows()[1]).toHaveProperty(["actor/pg_loss"]);
    expect(rows()[1]).toHaveProperty(["reward/description_accuracy"]);
    const again = await sr2seAsync([...run, "--steps", "3", "--resume"]);
    expect(again.status, again.stderr).toBe(0);
    expect(rows().map((x) => x.step)).toEqual([0, 1, 2, 3]);
  }, 300_000);
});
