import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sr2seSync as sr2se, sr2seAsync } from "./cli.js";
import { countCirclesReply, type StubEndpoint, stubEndpoint } from "./stub-endpoint.js";

const dir = mkdtempSync(path.join(tmpdir(), "sr2se-cli-"));

describe("sr2se data", () => {
  it("synth writes splits, images and a manifest; check passes on them", () => {
    const out = path.join(dir, "data");
    const r = sr2se([
      "data",
      "synth",
      "--out",
      out,
      "--train",
      "40",
      "--val",
      "8",
      "--test",
      "8",
      "--seed",
      "3",
    ]);
    expect(r.status, r.stderr).toBe(0);
    const manifest = JSON.parse(readFileSync(path.join(out, "manifest.json"), "utf8"));
    expect(manifest.seed).toBeDefined();
    const train = readFileSync(path.join(out, "train.jsonl"), "utf8").trim().split("\n");
    expect(train).toHaveLength(40);
    const first = JSON.parse(train[0]);
    expect(existsSync(path.join(out, first.image))).toBe(true);
    const check = sr2se(["data", "check", path.join(out, "train.jsonl")]);
    expect(check.status, check.stdout + check.stderr).toBe(0);
  });

  it("check lists problems and exits non-zero on a bad file", () => {
    const bad = path.join(dir, "bad.jsonl");
    writeFileSync(
      bad,
      `{"id":"a","image":"nope.png","question":"q","answer":"1"}\n{"id":"b","image":"x.png"}\n`,
    );
    const r = sr2se(["data", "check", bad]);
    expect(r.status).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/bad\.jsonl:1:/);
    expect(r.stdout + r.stderr).toMatch(/bad\.jsonl:2:.*question/);
  });

  it("rejects a bad --size with a one-line error", () => {
    const r = sr2se(["data", "synth", "--out", path.join(dir, "x"), "--size", "7"]);
    expect(r.status).not.toBe(0);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/size/);
  });
});

describe("sr2se ipr generate", () => {
  // A loopback OpenAI-compatible server: wrong in round 0, right after the refinement turn.
  let stub: StubEndpoint;
  let url: string;
  beforeAll(async () => {
    stub = await stubEndpoint((body) => ({ content: countCirclesReply(body) }));
    url = stub.url;
  });
  afterAll(() => stub.close());

  it("writes a pair per corrected sample against an OpenAI-compatible endpoint", async () => {
    const data = path.join(dir, "ipr");
    const gen = sr2se([
      "data",
      "synth",
      "--out",
      data,
      "--train",
      "4",
      "--val",
      "1",
      "--test",
      "1",
      "--seed",
      "5",
    ]);
    expect(gen.status, gen.stderr).toBe(0);
    const samples = readFileSync(path.join(data, "train.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => ({
        ...JSON.parse(l),
        answer: "1",
        answer_type: "integer",
        question: "How many circles are there?",
      }));
    const file = path.join(data, "circles.jsonl");
    writeFileSync(file, `${samples.map((s) => JSON.stringify(s)).join("\n")}\n`);
    const out = path.join(dir, "pairs.jsonl");
    const args = [
      "ipr",
      "generate",
      "--data",
      file,
      "--endpoint",
      url,
      "--model",
      "m",
      "--out",
      out,
      "--rounds",
      "2",
    ];
    const r = await sr2seAsync(args);
    expect(r.status, r.stderr).toBe(0);
    const pairs = readFileSync(out, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(pairs).toHaveLength(4);
    for (const p of pairs) {
      expect(p.chosen).toContain("\\boxed{1}");
      expect(p.rejected).toContain("\\boxed{2}");
    }
    // A rerun resumes: nothing new, nothing duplicated.
    const again = await sr2seAsync(args);
    expect(again.status, again.stderr).toBe(0);
    expect(readFileSync(out, "utf8").trim().split("\n")).toHaveLength(4);
  });

  it("needs a policy: --ckpt or --endpoint", () => {
    const r = sr2se([
      "ipr",
      "generate",
      "--data",
      path.join(dir, "bad.jsonl"),
      "--out",
      path.join(dir, "p.jsonl"),
    ]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/--ckpt|--endpoint/);
  });
});
