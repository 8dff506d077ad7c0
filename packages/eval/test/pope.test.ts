import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  EvalInputError,
  parsePopeAnswerOfficial,
  parsePopeAnswerRobust,
  popeLabel,
  popeMetrics,
  readPopeAnswers,
  readPopeQuestions,
  readPredictions,
  scorePope,
  splitFromFileName,
} from "../src/index.js";
import golden from "./fixtures/pope-golden.json" with { type: "json" };

type Golden = {
  parse: { text: string; expected: "yes" | "no" }[];
  aggregates: {
    answers: string[];
    labels: string[];
    expected: Record<string, number | null>;
  }[];
};
const G = golden as Golden;

describe("POPE official parse (golden values from evaluate.py)", () => {
  it.each(G.parse.map((c) => [JSON.stringify(c.text), c.text, c.expected]))(
    "%s reads as the official script reads it",
    (_n, text, expected) => {
      expect(parsePopeAnswerOfficial(text as string)).toBe(expected);
    },
  );
});

describe("POPE official metrics (golden values from evaluate.py)", () => {
  it.each(G.aggregates.map((c, i) => [i, c]))(
    "aggregate case %i matches TP/FP/TN/FN and every score",
    (_i, c) => {
      const preds = c.answers.map((a) => (parsePopeAnswerOfficial(a) === "no" ? 0 : 1));
      const labels = c.labels.map((l) => popeLabel(l) as 0 | 1);
      const m = popeMetrics(preds, labels);
      for (const k of ["TP", "FP", "TN", "FN"] as const) expect(m[k]).toBe(c.expected[k]);
      for (const k of ["accuracy", "precision", "recall", "f1", "yesRatio"] as const) {
        const want = c.expected[k];
        if (want === null) expect(m[k]).toBeNaN();
        else expect(m[k]).toBe(want);
      }
    },
  );
});

describe("POPE robust mode", () => {
  it.each([
    ["No!", "no"],
    ["NO", "no"],
    ["No\nthere is none", "no"],
    ["Yes, no doubt.", "yes"],
    ["I don't see one", "no"],
    ["There isn't a cat.", "no"],
    ["", "yes"],
    ["Nope", "no"],
  ])("%j reads as %s", (text, want) => {
    expect(parsePopeAnswerRobust(text)).toBe(want);
  });

  it("fixes what the official parse gets wrong", () => {
    expect(parsePopeAnswerOfficial("No!")).toBe("yes");
    expect(parsePopeAnswerRobust("No!")).toBe("no");
  });

  it("gives 0 instead of NaN where a denominator is zero", () => {
    expect(popeMetrics([0, 0], [1, 0], "robust").precision).toBe(0);
    expect(popeMetrics([0, 0], [1, 0], "official").precision).toBeNaN();
  });

  it("refuses a label that is neither yes nor no, where official mode counts it as yes", () => {
    expect(popeLabel("maybe")).toBe(1);
    expect(popeLabel(" No ", "robust")).toBe(0);
    expect(popeLabel("maybe", "robust")).toBeNull();
    expect(() =>
      scorePope([{ id: "1", split: "random", label: "maybe" }], [{ id: "1", response: "yes" }], {
        mode: "robust",
      }),
    ).toThrow(/label "maybe" is neither yes nor no/);
  });
});

async function tmp(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "pope-"));
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  return dir;
}

const q = (id: number, label: string) =>
  JSON.stringify({ question_id: id, image: `COCO_${id}.jpg`, text: "Is there a dog in the image?", label });

describe("POPE files and splits", () => {
  it("names the split a file's name holds", () => {
    expect(splitFromFileName("data/coco_pope_adversarial.json")).toBe("adversarial");
    expect(splitFromFileName("x/other.jsonl")).toBeNull();
  });

  it("qualifies ids that repeat across split files and averages the splits", async () => {
    const dir = await tmp({
      "coco_pope_random.json": [q(1, "yes"), q(2, "no")].join("\n"),
      "coco_pope_popular.json": [q(1, "yes"), q(2, "no")].join("\n"),
    });
    const questions = await readPopeQuestions([
      join(dir, "coco_pope_random.json"),
      join(dir, "coco_pope_popular.json"),
    ]);
    expect(questions.map((x) => x.id)).toEqual(["random/1", "random/2", "popular/1", "popular/2"]);
    const result = scorePope(questions, [
      { id: "random/1", response: "Yes, there is." },
      { id: "random/2", response: "No." },
      { id: "popular/1", response: "Yes" },
      { id: "popular/2", response: "Yes" },
    ]);
    expect(Object.keys(result.splits)).toEqual(["random", "popular"]);
    expect(result.splits.random?.accuracy).toBe(1);
    expect(result.splits.popular?.accuracy).toBe(0.5);
    expect(result.average.accuracy).toBe(0.75);
    expect(result.average.f1).toBeCloseTo((1 + 2 / 3) / 2, 15);
    expect(result.headline).toEqual({ metric: "F1", value: result.average.f1 * 100 });
    expect(result.table).toContain("| average |");
  });

  it("reads the split from a category field (LLaVA's merged file)", async () => {
    const dir = await tmp({
      "llava_pope_test.jsonl": [
        JSON.stringify({ question_id: 10, text: "?", label: "yes", category: "adversarial" }),
        JSON.stringify({ question_id: 11, text: "?", label: "no", category: "random" }),
      ].join("\n"),
    });
    const questions = await readPopeQuestions(join(dir, "llava_pope_test.jsonl"));
    expect(questions.map((x) => [x.id, x.split])).toEqual([
      ["10", "adversarial"],
      ["11", "random"],
    ]);
    const r = scorePope(questions, [
      { id: "11", response: "no" },
      { id: "10", response: "yes" },
    ]);
    expect(Object.keys(r.splits)).toEqual(["random", "adversarial"]);
  });

  it("scores the boxed answer of an sr2se response", () => {
    const r = scorePope(
      [{ id: "a", split: "random", label: "no" }],
      [{ id: "a", response: "<description>A red circle. Not a dog.</description>\\boxed{No}" }],
    );
    expect(r.samples[0]?.pred).toBe(0);
  });

  it("reads the whole response with boxed: false, as evaluate.py does", () => {
    const r = scorePope(
      [{ id: "a", split: "random", label: "no" }],
      [{ id: "a", response: "There is a dog. \\boxed{No}" }],
      { boxed: false },
    );
    expect(r.samples[0]?.pred).toBe(1);
  });

  it("treats an empty response as a (wrong) yes, not an error", () => {
    const r = scorePope([{ id: "a", split: "random", label: "no" }], [{ id: "a", response: "" }]);
    expect(r.samples[0]).toMatchObject({ pred: 1, score: 0 });
  });
});

describe("POPE bad input", () => {
  const qs = [
    { id: "1", split: "random", label: "yes" },
    { id: "2", split: "random", label: "no" },
  ];
  it("lists missing ids", () => {
    expect(() => scorePope(qs, [{ id: "1", response: "yes" }])).toThrow(/1 data ids have no prediction: 2/);
  });
  it("lists ids not in the data", () => {
    expect(() =>
      scorePope(qs, [
        { id: "1", response: "yes" },
        { id: "2", response: "no" },
        { id: "9", response: "no" },
      ]),
    ).toThrow(/prediction ids not in the data: 9/);
  });
  it("lists duplicate ids", () => {
    expect(() =>
      scorePope(qs, [
        { id: "1", response: "yes" },
        { id: "1", response: "no" },
      ]),
    ).toThrow(EvalInputError);
  });
  it("refuses an empty predictions file naming it", async () => {
    const dir = await tmp({ "p.jsonl": "" });
    await expect(readPredictions(join(dir, "p.jsonl"))).rejects.toThrow(/p\.jsonl: no predictions/);
  });
  it("names file, line and field of a question without a label", async () => {
    const dir = await tmp({
      "coco_pope_random.json": `${q(1, "yes")}\n${JSON.stringify({ question_id: 2, text: "?" })}\n`,
    });
    await expect(readPopeQuestions(join(dir, "coco_pope_random.json"))).rejects.toThrow(
      /coco_pope_random\.json:2: field "label" is missing/,
    );
  });
});

describe("POPE answer files", () => {
  const questions = [
    { id: "1", split: "random", label: "yes" },
    { id: "2", split: "random", label: "no" },
  ];
  it("pairs RUCAIBox answers (no ids) with the questions by line, as evaluate.py does", async () => {
    const dir = await tmp({
      "a.json":
        '{"question": "Is there a dog?", "answer": "Yes"}\n{"question": "Is there a cat?", "answer": "No"}\n',
    });
    const answers = await readPopeAnswers(join(dir, "a.json"), questions);
    expect(answers).toEqual([
      { id: "1", response: "Yes" },
      { id: "2", response: "No" },
    ]);
    expect(scorePope(questions, answers).average.accuracy).toBe(1);
  });
  it("reads LLaVA's answer files by question_id", async () => {
    const dir = await tmp({
      "a.jsonl": '{"question_id": 2, "text": "No"}\n{"question_id": 1, "text": "Yes"}\n',
    });
    expect(await readPopeAnswers(join(dir, "a.jsonl"))).toEqual([
      { id: "2", response: "No" },
      { id: "1", response: "Yes" },
    ]);
  });
  it("refuses positional answers whose count differs from the questions' (evaluate.py would truncate)", async () => {
    const dir = await tmp({ "a.json": '{"answer": "Yes"}\n' });
    await expect(readPopeAnswers(join(dir, "a.json"), questions)).rejects.toThrow(
      /1 answers without ids for 2 questions/,
    );
  });
  it("names the line of an answer without text", async () => {
    const dir = await tmp({ "a.jsonl": '{"question_id": 1, "text": "Yes"}\n{"question_id": 2}\n' });
    await expect(readPopeAnswers(join(dir, "a.jsonl"))).rejects.toThrow(
      /a\.jsonl:2: field "response" is missing/,
    );
  });
});
