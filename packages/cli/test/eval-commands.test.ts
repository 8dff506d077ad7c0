import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { sr2seSync as sr2se } from "./cli.js";

const dir = mkdtempSync(path.join(tmpdir(), "sr2se-eval-cli-"));
const bench = path.join(dir, "bench");

const lines = (f: string) =>
  readFileSync(f, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
const writeJsonl = (f: string, recs: unknown[]) =>
  writeFileSync(f, `${recs.map((r) => JSON.stringify(r)).join("\n")}\n`);

beforeAll(() => {
  const r = sr2se([
    "data",
    "bench",
    "--out",
    bench,
    "--pope",
    "6",
    "--mmmu",
    "10",
    "--mathvista",
    "10",
    "--mmvet",
    "4",
    "--seed",
    "2",
  ]);
  expect(r.status, r.stderr).toBe(0);
});

/** Runs `sr2se eval score` on a benchmark's data files and a predictions file. */
const evalScore = (bench: string, data: string[], pred: string, ...more: string[]) =>
  sr2se(["eval", "score", "--bench", bench, "--data", ...data, "--pred", pred, ...more]);

/**
 * Writes the predictions to `<name>.jsonl`, scores them with `sr2se eval score` into `<name>.json`,
 * and returns the run and the score's headline value.
 */
function score(bench: string, data: string[], name: string, predictions: unknown[]) {
  const pred = path.join(dir, `${name}.jsonl`);
  const out = path.join(dir, `${name}.json`);
  writeJsonl(pred, predictions);
  const r = evalScore(bench, data, pred, "--out", out);
  expect(r.status, r.stderr).toBe(0);
  return { ...r, headline: JSON.parse(readFileSync(out, "utf8")).headline.value as number };
}

describe("sr2se eval score", () => {
  it("scores POPE over the three splits: perfect answers give F1 100, always-yes gives recall 1", () => {
    const splits = ["random", "popular", "adversarial"];
    const data = splits.map((s) => path.join(bench, `pope_${s}.jsonl`));
    const perfect = splits.flatMap((s) =>
      lines(path.join(bench, `pope_${s}.jsonl`)).map((q) => ({
        id: `${s}/${q.question_id}`,
        response: `\\boxed{${q.label}}`,
      })),
    );
    const r = score("pope", data, "pope-perfect", perfect);
    expect(r.headline).toBeCloseTo(100, 6);
    expect(r.stdout).toMatch(/adversarial/);

    const yes = perfect.map((p) => ({ id: p.id, response: "Yes, there is." }));
    // Half the questions are "yes": precision 0.5, recall 1, F1 2/3.
    expect(score("pope", data, "pope-yes", yes).headline).toBeCloseTo(66.667, 2);

    const cmp = sr2se([
      "eval",
      "compare",
      path.join(dir, "pope-yes.json"),
      path.join(dir, "pope-perfect.json"),
      "--iterations",
      "200",
    ]);
    expect(cmp.status, cmp.stderr).toBe(0);
    expect(cmp.stdout).toMatch(/\| *Benchmark *\| *Baseline *\| *Ours *\| *Improvement/);
  });

  it("scores MMMU, MathVista and MM-Vet answer files written from the gold answers", () => {
    // each benchmark's questions answered with their gold answers, scored from `<bench>.jsonl`
    const gold = (name: string, prediction: (q: Record<string, unknown>) => unknown) => {
      const data = path.join(bench, `${name}.jsonl`);
      return score(name, [data], name, lines(data).map(prediction));
    };
    const m = gold("mmmu", (q) => ({ id: q.id, response: `The answer is ${q.answer}.` }));
    expect(m.headline).toBeCloseTo(100, 6);
    const v = gold("mathvista", (q) => ({ id: q.pid, response: `\\boxed{${q.answer}}` }));
    expect(v.headline).toBeCloseTo(100, 6);
    const t = gold("mmvet", (q) => ({
      id: q.id,
      response: String(q.answer).split(" <AND> ").join(", ").split(" <OR> ")[0],
    }));
    expect(t.stdout).toMatch(/not official/i);
    expect(t.headline).toBeGreaterThan(50);
  });

  it("names the ids when predictions are missing, and exits non-zero", () => {
    const data = path.join(bench, "pope_random.jsonl");
    const qs = lines(data);
    writeJsonl(
      path.join(dir, "partial.jsonl"),
      qs.slice(1).map((q) => ({ id: String(q.question_id), response: "yes" })),
    );
    const r = evalScore("pope", [data], path.join(dir, "partial.jsonl"));
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/no prediction/i);
    expect(r.stderr).toContain(String(qs[0].question_id));
  });

  it("refuses an empty predictions file with a clear error", () => {
    writeFileSync(path.join(dir, "empty.jsonl"), "");
    const r = evalScore("pope", [path.join(bench, "pope_random.jsonl")], path.join(dir, "empty.jsonl"));
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/empty/);
  });
});
