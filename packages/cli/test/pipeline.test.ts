import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { sr2seAsync as sr2se } from "./cli.js";
import { EXISTENCE_WORLD, TINY_SFT } from "./tiny-vlm.js";

const dir = mkdtempSync(path.join(tmpdir(), "sr2se-pipeline-"));

const STAGES = [
  "data",
  "sft",
  "bench",
  "eval-sft",
  "ipr",
  "hsr-ee",
  "sr-dpo",
  "gate",
  "eval-sr-dpo",
  "eval-hsr-ee",
  "compare",
  "report",
];
const PLOTS = ["benchmarks", "hallucination", "pairs", "training-sft", "training-sr-dpo", "gallery"];

describe("sr2se pipeline", () => {
  const world = path.join(dir, "world.json");
  writeFileSync(world, JSON.stringify(EXISTENCE_WORLD));
  const tiny = path.join(dir, "tiny.json");
  writeFileSync(
    tiny,
    JSON.stringify({ ...TINY_SFT, training: { ...TINY_SFT.training, vision_pretrain_steps: 100 } }),
  );
  const out = path.join(dir, "run");
  const args = [
    "pipeline",
    "--out",
    out,
    "--seed",
    "11",
    "--train",
    "48",
    "--val",
    "4",
    "--test",
    "4",
    "--pope",
    "4",
    "--mmmu",
    "4",
    "--mathvista",
    "4",
    "--mmvet",
    "4",
    "--chair",
    "4",
    "--ipr-shards",
    "1",
    "--sft-config",
    tiny,
    "--dpo-epochs",
    "1",
    "--hsr-ee-steps",
    "3",
    "--hsr-ee-options",
    "--batch-size 4 --gate-questions 8 --calibration-questions 4",
    "--world",
    world,
    "--ipr-options",
    "--rounds 3 --samples 2 --temperature 1 --format off --no-self-reward --seed 3",
  ];
  const state = () => JSON.parse(readFileSync(path.join(out, "pipeline.json"), "utf8"));

  it("runs every stage and writes its output", async () => {
    const r = await sr2se(args);
    expect(r.status, r.stderr.slice(-3000)).toBe(0);
    expect(Object.keys(state().done)).toEqual(STAGES);
    for (const f of [
      "data/train.jsonl",
      "sft/checkpoint/model.safetensors",
      "bench/pope_adversarial.jsonl",
      "eval/sft/all.json",
      "ipr/pairs.jsonl",
      "eval/sr-dpo/all.json",
      "eval/sr-dpo/chair.json",
      "eval/compare/all.json",
      "hsr-ee/gate/config.json",
      "gate/gate/config.json",
      "eval/hsr-ee/hsr-ee.json",
      "report.md",
    ])
      expect(existsSync(path.join(out, f)), f).toBe(true);
    const pope = JSON.parse(readFileSync(path.join(out, "eval/sft/pope_random.json"), "utf8"));
    expect(pope.splits.random.n).toBe(24);
    expect(pope.splits.random.f1).toBeGreaterThanOrEqual(0);
    const all = JSON.parse(readFileSync(path.join(out, "eval/sr-dpo/all.json"), "utf8"));
    expect(all.map((r: { bench: string }) => r.bench)).toEqual([
      "pope",
      "pope",
      "pope",
      "mmmu",
      "mathvista",
      "mmvet",
      "chair",
    ]);
    for (const [i, s] of STAGES.entries()) expect(r.stderr).toContain(`pipeline [${i + 1}/12] ${s}: `);
    // the gate is trained again on the policy SR-DPO changed
    const gateState = JSON.parse(readFileSync(path.join(out, "gate/checkpoint/trainer_state.json"), "utf8"));
    expect(gateState.from).toBe(path.join(out, "sr-dpo"));
    expect(r.stdout).toMatch(
      /Early exit \(HSR-EE, test, n = 4\): always deep [\d.]+% at [\d.]+ tokens; g_φ at τ = /,
    );
    // one headline table on stdout, every split and benchmark named; the stages' own tables went to stderr
    expect(r.stdout.match(/\| Benchmark \|/g)).toHaveLength(1);
    for (const row of [
      "pope random (F1)",
      "pope popular (F1)",
      "pope adversarial (F1)",
      "pope adversarial (FPR) ↓",
      "mmmu (accuracy)",
      "mathvista (accuracy)",
      "mmvet (total)",
      "chair (CHAIR_i) ↓",
    ])
      expect(r.stdout).toContain(`| ${row} |`);
    expect(r.stdout).not.toContain("| pope (F1) |");
    const report = readFileSync(path.join(out, "report.md"), "utf8");
    for (const plot of PLOTS) {
      expect(report).toContain(`(plots/${plot}.png)`);
      const meta = await sharp(path.join(out, "plots", `${plot}.png`)).metadata();
      expect(meta.format, plot).toBe("png");
      expect(meta.width, plot).toBeGreaterThan(400);
    }
    expect(report).toMatch(/\*\*(met|NOT met)\*\*: POPE adversarial F1 up by ≥ 4\.3/);
    expect(report).toContain("| always deep (no early exit) |");
    // one pass over the pairs: as many steps of 8 as the pairs fill
    const pairs = readFileSync(path.join(out, "ipr/pairs.jsonl"), "utf8").trim().split("\n").length;
    const dpoRows = readFileSync(path.join(out, "sr-dpo/logs/sr-dpo.jsonl"), "utf8").trim().split("\n");
    expect(dpoRows.length).toBe(Math.ceil(pairs / 8));
  }, 600_000);

  it("a rerun skips every finished stage", async () => {
    const r = await sr2se(args);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr.match(/done earlier/g)?.length).toBe(12);
    // the headline is printed again at the end of a rerun
    expect(r.stdout).toContain("| pope adversarial (F1) |");
  }, 120_000);

  it("a rerun with other options is refused, naming the option", async () => {
    const r = await sr2se(args.map((a) => (a === "11" ? "12" : a)));
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("this run was started with seed = 11, now 12");
  }, 120_000);

  it("stages whose record is gone run again and finish from what is on disk", async () => {
    const s = state();
    for (const stage of ["sr-dpo", "eval-sr-dpo", "compare", "report"]) delete s.done[stage];
    writeFileSync(path.join(out, "pipeline.json"), JSON.stringify(s));
    const before = readFileSync(path.join(out, "eval/sr-dpo/pope_random.pred.jsonl"), "utf8");
    const r = await sr2se(args);
    expect(r.status, r.stderr.slice(-3000)).toBe(0);
    expect(r.stderr.match(/done earlier/g)?.length).toBe(8);
    expect(Object.keys(state().done).sort()).toEqual([...STAGES].sort());
    // predictions already written are kept, not answered twice
    expect(readFileSync(path.join(out, "eval/sr-dpo/pope_random.pred.jsonl"), "utf8")).toBe(before);
  }, 300_000);
});
