// Kill anywhere, lose nothing: the record-writing jobs (`predict`, `ipr generate`, `eval score` with a
// judge) SIGKILLed at seeded random moments and rerun end with the records of an uninterrupted run:
// none lost, none twice, no leftovers. SR2SE_CHAOS_KILLS raises the kills a job (CI: 3).
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chaosKills, killAnywhere, killWindow, leftovers, recordsById, runToEnd } from "./chaos.js";
import { type StubEndpoint, stubEndpoint } from "./stub-endpoint.js";
import { EXISTENCE_WORLD, TINY_SFT } from "./tiny-vlm.js";

const dir = mkdtempSync(path.join(tmpdir(), "sr2se-chaos-records-"));
const data = path.join(dir, "data");
const bench = path.join(dir, "bench");
const sft = path.join(dir, "sft");
const KILLS = chaosKills(3);

beforeAll(async () => {
  const world = path.join(dir, "world.json");
  writeFileSync(world, JSON.stringify(EXISTENCE_WORLD));
  const config = path.join(dir, "sft.json");
  writeFileSync(
    config,
    JSON.stringify({ ...TINY_SFT, training: { ...TINY_SFT.training, steps: 10, vision_pretrain_steps: 0 } }),
  );
  for (const args of [
    ["data", "synth", "--out", data, "--train", "16", "--val", "2", "--test", "24", "--seed", "7"],
    ["data", "bench", "--out", bench, "--pope", "2", "--mmmu", "2", "--mathvista", "2", "--mmvet", "40"],
  ]) {
    const r = await runToEnd([...args, ...(args[1] === "synth" ? ["--config", world] : [])]);
    expect(r.status, r.stderr).toBe(0);
  }
  const r = await runToEnd(["train", "sft", "--data", data, "--out", sft, "--config", config]);
  expect(r.status, r.stderr).toBe(0);
}, 90_000);

describe("kill anywhere", () => {
  it(`predict survives ${KILLS} kills: every id once, the answers of an uninterrupted run`, async () => {
    const args = (out: string) => [
      ...["predict", "--ckpt", sft, "--data", path.join(data, "test.jsonl"), "--out", out],
      ...["--batch-size", "3", "--max-tokens", "24"],
    ];
    const ref = path.join(dir, "pred-ref.jsonl");
    const uninterrupted = await runToEnd(args(ref));
    expect(uninterrupted.status, uninterrupted.stderr).toBe(0);
    const out = path.join(dir, "pred", "pred.jsonl");
    const r = await killAnywhere({
      args: args(out),
      kills: KILLS,
      seed: 3,
      maxMs: killWindow(uninterrupted, "start"),
      from: "start",
    });
    expect(r.final.status, r.final.stderr + r.killedStderr).toBe(0);
    expect(r.kills).toBeGreaterThan(0);
    const want = recordsById(ref);
    const got = recordsById(out);
    expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
    for (const [id, p] of got) expect(p.response, id).toBe(want.get(id)?.response);
    expect(leftovers(path.dirname(out))).toEqual([]);
  }, 120_000);

  it(`ipr generate survives ${KILLS} kills: every pair and outcome once, those of an uninterrupted run`, async () => {
    const args = (out: string) => [
      ...["ipr", "generate", "--data", path.join(data, "train.jsonl"), "--ckpt", sft, "--out", out],
      ...["--rounds", "2", "--samples", "2", "--temperature", "1", "--max-tokens", "24"],
      ...["--format", "off", "--no-self-reward", "--seed", "3", "--batch-size", "4", "--concurrency", "4"],
    ];
    const ref = path.join(dir, "ipr-ref", "pairs.jsonl");
    const uninterrupted = await runToEnd(args(ref));
    expect(uninterrupted.status, uninterrupted.stderr).toBe(0);
    const out = path.join(dir, "ipr", "pairs.jsonl");
    const r = await killAnywhere({
      args: args(out),
      kills: KILLS,
      seed: 4,
      maxMs: killWindow(uninterrupted, "start"),
      from: "start",
    });
    expect(r.final.status, r.final.stderr + r.killedStderr).toBe(0);
    expect(r.kills).toBeGreaterThan(0);
    const outcomes = (f: string) =>
      recordsById(f.replace(/\.jsonl$/, ".outcomes.jsonl"), (o) => String(o.id));
    expect([...outcomes(out).keys()].sort()).toEqual([...outcomes(ref).keys()].sort());
    const pairs = (f: string) =>
      [...recordsById(f).values()].map((p) => `${p.sample_id}\n${p.chosen}\n${p.rejected}`).sort();
    expect(pairs(out)).toEqual(pairs(ref));
    const stats = (f: string) => JSON.parse(readFileSync(f.replace(/\.jsonl$/, ".stats.json"), "utf8"));
    expect(stats(out).pairs).toBe(stats(ref).pairs);
    expect(leftovers(path.dirname(out))).toEqual([]);
  }, 120_000);

  describe("eval score with a judge", () => {
    const asked = new Map<string, number>();
    let server: StubEndpoint;
    let url = "";
    beforeAll(async () => {
      server = await stubEndpoint((body) => {
        const key = createHash("sha256").update(body).digest("hex");
        asked.set(key, (asked.get(key) ?? 0) + 1);
        // a slow grader, so that kills land while judgments are in flight
        return { content: "0.5", delayMs: 60 };
      }, "judge");
      url = server.url;
    });
    afterAll(() => server.close());

    it(`survives ${KILLS} kills: each judgment cached once, asked at most once more after a kill`, async () => {
      const questions = readFileSync(path.join(bench, "mmvet.jsonl"), "utf8").trim().split("\n");
      const pred = path.join(dir, "mmvet-pred.jsonl");
      writeFileSync(
        pred,
        questions
          .map((l) => `${JSON.stringify({ id: JSON.parse(l).id, response: "a red circle" })}\n`)
          .join(""),
      );
      const args = (out: string) => [
        ...["eval", "score", "--bench", "mmvet", "--data", path.join(bench, "mmvet.jsonl"), "--pred", pred],
        ...["--judge", url, "--judge-model", "judge", "--out", out],
      ];
      const refOut = path.join(dir, "judge-ref", "mmvet.json");
      const uninterrupted = await runToEnd(args(refOut));
      expect(uninterrupted.status, uninterrupted.stderr).toBe(0);
      // one judgment a distinct prompt, each asked once
      const asks = asked.size;
      expect(asks).toBeGreaterThan(questions.length / 2);
      expect([...asked.values()].every((n) => n === 1)).toBe(true);
      asked.clear();

      const out = path.join(dir, "judge", "mmvet.json");
      const r = await killAnywhere({
        args: args(out),
        kills: KILLS,
        seed: 5,
        maxMs: killWindow(uninterrupted, "start"),
        from: "start",
      });
      expect(r.final.status, r.final.stderr + r.killedStderr).toBe(0);
      expect(r.kills).toBeGreaterThan(0);
      const result = (f: string) => JSON.parse(readFileSync(f, "utf8")).headline.value;
      expect(result(out)).toBe(result(refOut));
      const cache = recordsById(path.join(dir, "judge", "cache", "mmvet-judgments.jsonl"), (c) =>
        String(c.key),
      );
      expect(cache.size).toBe(asks);
      // a judgment is asked again only when a kill took it in flight (the client sends 4 at a time)
      const repeats = [...asked.values()].reduce((a, n) => a + n - 1, 0);
      expect(repeats).toBeLessThanOrEqual(4 * r.kills);
      expect(leftovers(path.join(dir, "judge"))).toEqual([]);
    }, 120_000);
  });
});
