import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { bin, sr2seAsync as sr2se, sr2seSync } from "./cli.js";
import { EXISTENCE_WORLD, TINY_SFT } from "./tiny-vlm.js";

const dir = mkdtempSync(path.join(tmpdir(), "sr2se-experiment-"));
const world = path.join(dir, "world.json");
writeFileSync(world, JSON.stringify(EXISTENCE_WORLD));
const tiny = path.join(dir, "tiny.json");
writeFileSync(
  tiny,
  JSON.stringify({ ...TINY_SFT, training: { ...TINY_SFT.training, vision_pretrain_steps: 100 } }),
);
const out = path.join(dir, "exp");
const args = [
  "experiment",
  "--out",
  out,
  "--seeds",
  "2",
  "--variants",
  "sft,sft-continued,ipr-srdpo,ipr-srdpo-r2",
  "--train",
  "32",
  "--val",
  "4",
  "--test",
  "4",
  "--pope",
  "3",
  "--val-pope",
  "2",
  "--mmmu",
  "0",
  "--mathvista",
  "0",
  "--mmvet",
  "2",
  "--chair",
  "2",
  "--sft-config",
  tiny,
  "--dpo-epochs",
  "1",
  "--world",
  world,
  "--ipr-options",
  "--rounds 3 --samples 2 --temperature 1 --format off --no-self-reward --seed 3",
];
const state = () => JSON.parse(readFileSync(path.join(out, "experiment.json"), "utf8"));
/** The finished stages: the shared ones and the report (experiment.json), then each seed's (seed-<s>/stages.json). */
const doneStages = (): string[] => [
  ...Object.keys(state().done),
  ...[1, 2].flatMap((s) => {
    const f = path.join(out, `seed-${s}`, "stages.json");
    return existsSync(f) ? Object.keys(JSON.parse(readFileSync(f, "utf8")).done) : [];
  }),
];

/** Starts the experiment and stops it with SIGTERM once `stage` has started; resolves with its exit and stderr. */
function runUntil(stage: string): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args]);
    let stderr = "";
    let sent = false;
    child.stderr.on("data", (d) => {
      stderr += d;
      if (!sent && stderr.includes(`] ${stage}: `)) {
        sent = true;
        child.kill("SIGTERM");
      }
    });
    child.on("close", (status) => resolve({ status, stderr }));
  });
}

describe("sr2se experiment", () => {
  it("a run stopped in a stage resumes after it: finished stages are skipped", async () => {
    const stopped = await runUntil("seed-1/eval/sft/test");
    expect(stopped.status, stopped.stderr.slice(-2000)).not.toBe(0);
    expect(doneStages()).toEqual(["data", "bench/val", "bench/test", "seed-1/sft"]);
    const r = await sr2se(args);
    expect(r.status, r.stderr.slice(-3000)).toBe(0);
    for (const s of ["data", "bench/val", "bench/test", "seed-1/sft"])
      expect(r.stderr).toMatch(new RegExp(`\\] ${s}: done earlier`));
    expect(r.stderr).toMatch(/\] seed-1\/eval\/sft\/test: seed 1: sft on the test benches/);
    const done = doneStages();
    for (const s of [1, 2])
      for (const stage of [
        "sft",
        "eval/sft/test",
        "round-1/ipr",
        "round-1/sr-dpo",
        "eval/round-1/test",
        "round-2/ipr",
        "round-2/sr-dpo",
        "eval/round-2/val",
        "sft-continued",
        "eval/sft-continued/test",
      ])
        expect(done).toContain(`seed-${s}/${stage}`);
    const shared = Object.keys(state().done);
    expect(shared).toEqual(["data", "bench/val", "bench/test", "report"]);

    // the control ran as many more optimizer steps as both rounds of SR-DPO took
    const matched = JSON.parse(
      readFileSync(path.join(out, "seed-1/sft-continued/matched-steps.json"), "utf8"),
    );
    const dpoSteps = [1, 2]
      .map(
        (r) =>
          readFileSync(path.join(out, `seed-1/round-${r}/sr-dpo/logs/sr-dpo.jsonl`), "utf8")
            .trim()
            .split("\n").length,
      )
      .reduce((a, b) => a + b, 0);
    expect(matched).toEqual({
      sft: TINY_SFT.training.steps,
      extra: dpoSteps,
      target: TINY_SFT.training.steps + dpoSteps,
    });
    const continued = JSON.parse(
      readFileSync(path.join(out, "seed-1/sft-continued/checkpoint/trainer_state.json"), "utf8"),
    );
    expect(continued.step).toBe(TINY_SFT.training.steps + dpoSteps);

    // one headline table on stdout naming every split, pooled over the seeds
    expect(r.stdout.match(/\| Benchmark \|/g)).toHaveLength(1);
    for (const split of ["random", "popular", "adversarial"])
      expect(r.stdout).toContain(`| pope ${split} (F1) |`);
    expect(r.stdout).toContain("| mmvet (total) |");
    expect(r.stdout).toContain("| chair (CHAIR_i) ↓ |");
    for (const v of ["sft-continued", "ipr-srdpo", "ipr-srdpo-r2"]) expect(r.stdout).toContain(` ${v} |`);

    const pooled = JSON.parse(readFileSync(path.join(out, "comparisons/ipr-srdpo-r2-vs-sft.json"), "utf8"));
    const adv = pooled.rows.find(
      (x: { benchmark: string; metric: string }) => x.benchmark === "pope adversarial" && x.metric === "F1",
    );
    expect(adv.n).toBe(2 * 18);
    expect(existsSync(path.join(out, "comparisons/ipr-srdpo-vs-sft.seed-2.json"))).toBe(true);
    expect(existsSync(path.join(out, "comparisons/ipr-srdpo-r2-vs-sft-continued.json"))).toBe(true);

    const report = readFileSync(path.join(out, "report.md"), "utf8");
    for (const heading of [
      "## Goals",
      "## Per-round curves",
      "### Seed 2",
      "## Validation bench",
      "## Bench sizes and noise",
      "## Preference pairs per round",
      "## Training curves",
      "## Gallery",
    ])
      expect(report).toContain(heading);
    expect(report).toMatch(/\*\*(met|NOT met)\*\*: beats sft-continued on POPE adversarial F1 and CHAIR_i/);
    const plots = [...report.matchAll(/\(plots\/([\w-]+\.png)\)/g)].map((m) => m[1] as string);
    expect(plots).toEqual(
      expect.arrayContaining([
        "benchmarks.png",
        "hallucination.png",
        "rounds.png",
        "pairs.png",
        "training-sft.png",
        "training-sr-dpo.png",
        "gallery.png",
      ]),
    );
    for (const f of plots) expect((await sharp(path.join(out, "plots", f)).metadata()).format, f).toBe("png");
  }, 1_500_000);

  it("a rerun with other variants is refused, naming the option", async () => {
    const r = await sr2se(
      args.map((a) => (a === "sft,sft-continued,ipr-srdpo,ipr-srdpo-r2" ? "sft,ipr-srdpo" : a)),
    );
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("this run was started with variants =");
  }, 120_000);
});

describe("sr2se experiment: bad options are one-line errors", () => {
  const bad = (extra: string[]) => sr2seSync(["experiment", "--out", path.join(dir, "bad"), ...extra]);
  it.each([
    [["--variants", "sft,foo"], 'unknown variant "foo"'],
    [["--variants", "ipr-srdpo"], "the variants must include sft"],
    [["--variants", "sft,ipr-srdpo-r1"], 'unknown variant "ipr-srdpo-r1"'],
    [["--seeds", "0"], "expected an integer ≥ 1"],
    [["--reference", "best"], "expected previous or sft"],
  ])("%j", (extra, message) => {
    const r = bad(extra as string[]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(path.join(dir, "bad"))).toBe(false);
  });
});
