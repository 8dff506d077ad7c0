import { readFileSync } from "node:fs";
import { OpenAIError } from "@sr2se/core";
import { describe, expect, it } from "vitest";
import {
  aggregateMmVet,
  buildGradeQuery,
  gradeSample,
  type JudgeReply,
  type JudgeRequest,
  MMVET_GRADER_PROMPT,
  type MmVetJudge,
  type MmVetSample,
  npMean,
  npRound,
  npStd,
  npSum,
  parseJudgeScore,
  ShapesWorldJudge,
  scoreMmVet,
  shapesScore,
} from "../src/mmvet/index.js";

// Expected values come from scripts/mmvet_reference.py run under CPython + numpy (see its header).
const fixture = JSON.parse(readFileSync(new URL("./fixtures/mmvet.json", import.meta.url), "utf8"));

/** Replays a script of replies: "RATE_LIMIT" throws a 429 error, past the end it answers "1.0". */
class ScriptedJudge implements MmVetJudge {
  readonly model = "gpt-4-0613";
  readonly official = true;
  calls: { retry: boolean; temperature: number }[] = [];
  constructor(private readonly replies: (string | null)[]) {}
  async judge(req: JudgeRequest): Promise<JudgeReply> {
    this.calls.push({
      retry: req.prompt.endsWith("\nPredict the correctness of the answer (digit): "),
      temperature: req.temperature,
    });
    const reply = this.replies.length > 0 ? this.replies.shift() : "1.0";
    if (reply === "RATE_LIMIT") throw Object.assign(new Error("HTTP 429"), { status: 429 });
    return { content: reply ?? null, model: this.model };
  }
}

const line: MmVetSample = {
  id: "v1_0",
  question: "What is x in the equation?",
  answer: "-1<AND>-5",
  capability: ["math"],
};

describe("the grader prompt and query layout", () => {
  it("keeps the official prompt's table and trailing newline", () => {
    expect(MMVET_GRADER_PROMPT.startsWith("Compare the ground truth and prediction from AI models")).toBe(
      true,
    );
    expect(MMVET_GRADER_PROMPT.endsWith("their actual physical characteristics. | 1.0\n")).toBe(true);
    expect(MMVET_GRADER_PROMPT.length).toBe(fixture.prompt_sha_hint);
  });
  it.each(
    fixture.queries as { question: string; answer: string; pred: string; first: string; retry: string }[],
  )("lays out %j as the official script", (q) => {
    expect(buildGradeQuery(q.question, q.answer, q.pred)).toBe(q.first);
    expect(buildGradeQuery(q.question, q.answer, q.pred, { retry: true })).toBe(q.retry);
  });
});

describe("grading loop: parse, retries, fallbacks, rate limits (official)", () => {
  type Case = {
    replies: (string | null)[];
    score: number | null;
    nan: boolean;
    content: string | null;
    calls: { retry: boolean; temperature: number }[];
  };
  it.each(fixture.grading as Case[])("grades replies %j", async (c) => {
    const judge = new ScriptedJudge([...c.replies]);
    const got = await gradeSample(judge, line, "x = -1", 0, { rateLimitSleepMs: 0 });
    if (c.nan) expect(got.score).toBeNaN();
    else expect(Object.is(got.score, c.score)).toBe(true);
    expect(got.content).toBe(c.content);
    expect(judge.calls).toEqual(c.calls);
  });
});

describe("robust grading", () => {
  it("reads a score inside a sentence and refuses NaN", () => {
    expect(parseJudgeScore("Correctness: 0.6", "robust")?.score).toBe(0.6);
    expect(parseJudgeScore("Correctness: 0.6")).toBeNull();
    expect(parseJudgeScore("nan", "robust")).toBeNull();
    expect(parseJudgeScore("-0.1", "robust")).toBeNull();
    expect(parseJudgeScore("1.0.", "robust")?.score).toBe(1);
    expect(parseJudgeScore("nan")?.score).toBeNaN();
  });
  it("reads the fifth retry's reply instead of discarding it", async () => {
    const official = await gradeSample(new ScriptedJudge(["x", "y", "z", "w", "v", "0.9"]), line, "p", 0);
    const robust = await gradeSample(new ScriptedJudge(["x", "y", "z", "w", "v", "0.9"]), line, "p", 0, {
      mode: "robust",
    });
    expect(official.score).toBe(0);
    expect(official.fallback).toBe(true);
    expect(robust.score).toBe(0.9);
  });
  it("starts a rate-limited sample over from the first prompt at temperature 0", async () => {
    const judge = new ScriptedJudge(["x", "y", "RATE_LIMIT", "0.1"]);
    await gradeSample(judge, line, "p", 0, { mode: "robust", rateLimitSleepMs: 0 });
    expect(judge.calls.at(-1)).toEqual({ retry: false, temperature: 0 });
  });
  it("gives up after maxRateLimitRestarts", async () => {
    const judge = new ScriptedJudge(["RATE_LIMIT", "RATE_LIMIT", "RATE_LIMIT"]);
    await expect(
      gradeSample(judge, line, "p", 0, { rateLimitSleepMs: 0, maxRateLimitRestarts: 2 }),
    ).rejects.toThrow(/429/);
  });
});

describe("numpy reductions and rounding", () => {
  it.each(fixture.numpy as { a: number[]; sum: number; mean: number; std: number; round1: number[] }[])(
    "sum, mean, std and round of %#",
    (c) => {
      expect(npSum(c.a)).toBe(c.sum);
      expect(npMean(c.a)).toBe(c.mean);
      expect(npStd(c.a)).toBe(c.std);
      expect(c.a.slice(0, 20).map((x) => npRound(x, 1))).toEqual(c.round1);
    },
  );
  it("rounds ties as numpy does, not as Python's round", () => {
    for (const t of fixture.numpy_round_ties as { x: number; np1: number; np2: number }[]) {
      expect(npRound(t.x, 1), String(t.x)).toBe(t.np1);
      expect(npRound(t.x, 2), String(t.x)).toBe(t.np2);
    }
  });
});

type AggregateCase = {
  data: Record<string, { question: string; answer: string; capability: string[] }>;
  grades: Record<string, { score: number[] }>;
  runs: number;
  expected: {
    columns: string[];
    caps: Record<string, number>;
    per_run: Record<string, number[]>;
    set_columns: string[][];
    sets: { caps: string[]; score: number }[];
    set_total: number;
    std: number;
    runs: string;
  };
};

/** A judge that replies with the scores of the fixture's grade file, run by run. */
class GradeFileJudge implements MmVetJudge {
  readonly model = "gpt-4-0613";
  readonly official = true;
  constructor(private readonly grades: Record<string, { score: number[] }>) {}
  async judge(req: JudgeRequest): Promise<JudgeReply> {
    return { content: String(this.grades[req.sample.id]?.score[req.run]), model: this.model };
  }
}

describe("aggregation per capability and capability set (export_result)", () => {
  it.each(fixture.aggregate as AggregateCase[])("matches export_result for %#", async (c) => {
    const samples = Object.entries(c.data).map(([id, v]) => ({ ...v, id }));
    const scores = new Map(Object.entries(c.grades).map(([id, g]) => [id, g.score]));
    const { capabilities, capabilitySets } = aggregateMmVet(samples, scores, c.runs, 1);
    expect(Object.keys(capabilities.columns)).toEqual(c.expected.columns);
    for (const [cap, value] of Object.entries(c.expected.caps)) {
      const col = cap === "total" ? capabilities.total : capabilities.columns[cap];
      expect(col?.score, cap).toBe(value);
      expect(col?.perRun, cap).toEqual(c.expected.per_run[cap]);
    }
    expect(capabilities.std).toBe(c.expected.std);
    expect(capabilities.runs).toBe(c.expected.runs);
    const sets = Object.entries(capabilitySets.columns).map(([name, col]) => ({
      caps: name.split("_").sort(),
      score: col.score,
    }));
    expect(sets.map((s) => s.caps)).toEqual(c.expected.set_columns);
    expect(sets).toEqual(c.expected.sets);
    expect(capabilitySets.total.score).toBe(c.expected.set_total);
  });

  it("scoreMmVet end to end gives the official tables, 5 runs", async () => {
    const c = (fixture.aggregate as AggregateCase[])[0] as AggregateCase;
    const data = c.data;
    const predictions = Object.keys(data).map((id) => ({ id, response: `answer ${id}` }));
    const result = await scoreMmVet(data, predictions, { judge: new GradeFileJudge(c.grades), runs: c.runs });
    expect(result.capabilities.total.score).toBe(c.expected.caps.total);
    expect(result.capabilities.std).toBe(c.expected.std);
    expect(result.capabilities.runs).toBe(c.expected.runs);
    expect(result.official).toBe(true);
    expect(result.grades.v1_0?.score).toEqual(c.grades.v1_0?.score);
    expect(result.headline.value).toBeCloseTo(
      100 * (result.samples.reduce((a, s) => a + s.score, 0) / result.samples.length),
      9,
    );
    expect(result.table).toContain(`| ${c.expected.columns.join(" | ")} | total | std | runs |`);
    expect(JSON.parse(JSON.stringify(result)).headline).toEqual(result.headline);
  });

  it("a judge whose endpoint refuses every request stops the grading after the calls in flight", async () => {
    let calls = 0;
    const judge: MmVetJudge = {
      model: "gpt-4-0613",
      official: true,
      async judge() {
        calls++;
        await new Promise((r) => setTimeout(r, 5));
        throw new OpenAIError("http://x/v1/chat/completions: HTTP 401: invalid api key", 401);
      },
    };
    const data = Array.from({ length: 40 }, (_, i) => ({ ...line, id: `v1_${i}` }));
    const predictions = data.map((d) => ({ id: d.id, response: "4" }));
    await expect(scoreMmVet(data, predictions, { judge, concurrency: 3 })).rejects.toThrow(/HTTP 401/);
    expect(calls).toBeLessThanOrEqual(3);
  });

  it("names missing predictions and bad data fields", async () => {
    const judge = new ShapesWorldJudge();
    await expect(scoreMmVet([{ ...line }], [], { judge })).rejects.toThrow(/mmvet: no predictions/);
    await expect(
      scoreMmVet([{ ...line, capability: "math" }], [{ id: "v1_0", response: "" }], { judge }),
    ).rejects.toThrow('mmvet: sample v1_0: field "capability" must be a non-empty list of strings');
    await expect(
      scoreMmVet([{ id: "v1_0", question: "q" }], [{ id: "v1_0", response: "" }], { judge }),
    ).rejects.toThrow('mmvet: sample v1_0: field "answer" is missing');
  });
});

describe("the deterministic shapes-world judge (not official)", () => {
  const objects = [
    { shape: "circle", color: "red" },
    { shape: "star", color: "blue" },
  ];
  it.each([
    ["red circle <AND> blue star", "A red circle and a blue star.", 1],
    ["red circle <AND> blue star", "I see a red circle.", 0.5],
    ["red circle <AND> blue star", "Red circles, a blue star and a green square.", 0.9],
    ["red circle <AND> blue star", "Nothing.", 0],
    ["3 <OR> three", "There are three.", 1],
    ["3 <OR> three", "\\boxed{3}", 1],
    ["3 <OR> three", "4", 0],
    ["red circle", "It is a grey circle.", 0],
  ] as const)("scores %j against %j as %d", (answer, prediction, expected) => {
    expect(shapesScore({ answer, capability: ["rec"] }, prediction)).toBe(expected);
  });
  it("uses the scene's objects when the sample carries them", () => {
    expect(
      shapesScore(
        { answer: "2 <OR> two", capability: ["rec"], objects },
        "two: a red circle and a pink star",
      ),
    ).toBe(0.9);
  });
  it("takes a sample's objects from the scenes file by image", async () => {
    const judge = new ShapesWorldJudge({ scenes: [{ image: "images/mmvet-000001.png", objects }] });
    const sample = {
      id: "c",
      question: "How many?",
      answer: "2 <OR> two",
      capability: ["rec"],
      image: "images/mmvet-000001.png",
    };
    const reply = await judge.judge({
      prompt: "",
      temperature: 0,
      maxTokens: 3,
      run: 0,
      sample,
      prediction: "2, a green star",
    });
    expect(reply).toEqual({ content: "0.9", model: "sr2se-shapes-judge-v1" });
  });
  it("scores a whole set through scoreMmVet, labelled as not official", async () => {
    const data = [
      { id: "a", question: "What objects?", answer: "red circle <AND> blue star", capability: ["rec"] },
      { id: "b", question: "How many stars?", answer: "1 <OR> one", capability: ["rec", "math"] },
    ];
    const result = await scoreMmVet(
      data,
      [
        { id: "a", response: "<description>a red circle</description>\\boxed{a red circle}" },
        { id: "b", response: "\\boxed{1}" },
      ],
      { judge: new ShapesWorldJudge(), runs: 2, mode: "robust" },
    );
    expect(result.official).toBe(false);
    expect(result.label).toBe(
      "NOT official MM-Vet: deterministic sr2se-shapes-judge-v1 judge (mode: robust), 2 runs",
    );
    expect(result.capabilities.total.score).toBe(75);
    expect(result.capabilities.std).toBe(0);
    expect(result.capabilitySets.columns.rec_math?.score).toBe(100);
  });
});
