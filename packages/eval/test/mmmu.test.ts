import { describe, expect, it } from "vitest";
import {
  checkIsNumber,
  evalMultiChoice,
  evalOpen,
  extractNumbers,
  type MmmuQuestion,
  type MmmuValue,
  multiChoiceInfo,
  normalizeStr,
  PythonRandom,
  parseMultiChoiceResponse,
  parseOpenResponse,
  parsePythonStringList,
  readMmmuQuestions,
  scoreMmmu,
  subjectOfId,
} from "../src/index.js";
import golden from "./fixtures/mmmu-golden.json" with { type: "json" };

type Enc = { f: string } | { s: string };
type Golden = {
  rng: Record<string, { u32: number[]; random: string[]; bits: string[]; choices: number[] }> & {
    after_700: number[];
  };
  options: string[];
  multiChoice: { response: string; options?: string[]; expected: string }[];
  numbers: { text: string; expected: string[] }[];
  normalize: { text: string; expected: Enc[] }[];
  open: { response: string; expected: Enc[] }[];
  openVerdicts: { response: string; gold: string | string[]; expected: boolean }[];
  mcVerdicts: { gold: string | string[]; pred: string; expected: boolean }[];
  run: {
    data: (MmmuQuestion & { response: string; options: string[] })[];
    judges: { id: string; judge: "Correct" | "Wrong" }[];
    printable: Record<string, { num: number; acc: number }>;
    overall_unrounded: number;
  };
};
const G = golden as unknown as Golden;

/** A Python float repr from the fixture, as the double it names. */
function pyFloatOf(repr: string): number {
  if (repr === "nan") return Number.NaN;
  if (repr === "inf") return Number.POSITIVE_INFINITY;
  if (repr === "-inf") return Number.NEGATIVE_INFINITY;
  return Number(repr);
}
function encode(v: MmmuValue): string {
  if (typeof v === "number") return JSON.stringify({ f: v });
  return JSON.stringify({ s: v });
}
function decode(e: Enc): string {
  return "f" in e ? JSON.stringify({ f: pyFloatOf(e.f) }) : JSON.stringify({ s: e.s });
}

describe("PythonRandom reproduces CPython's random module", () => {
  const seeds = Object.keys(G.rng).filter((k) => k !== "after_700");
  it.each(seeds)("seed %s: getrandbits(32), random(), getrandbits(k) and choice match Python", (seed) => {
    const want = G.rng[seed] as { u32: number[]; random: string[]; bits: string[]; choices: number[] };
    const r = new PythonRandom(BigInt(seed));
    expect(want.u32.map(() => Number(r.getrandbits(32)))).toEqual(want.u32);
    expect(want.random.map(() => r.random())).toEqual(want.random.map(Number));
    expect([1, 5, 31, 33, 64, 100].map((k) => r.getrandbits(k).toString())).toEqual(want.bits);
    const sizes = [
      1, 2, 3, 4, 5, 7, 9, 10, 13, 2, 3, 4, 1, 2, 3, 4, 5, 7, 9, 10, 13, 2, 3, 4, 1, 2, 3, 4, 5, 7, 9, 10, 13,
      2, 3, 4,
    ];
    expect(sizes.map((n) => r.choice(Array.from({ length: n }, (_, i) => i)))).toEqual(want.choices);
  });
  it("stays in step past a full regeneration of the 624-word state", () => {
    const r = new PythonRandom(42);
    for (let i = 0; i < 700; i++) r.nextUint32();
    expect(Array.from({ length: 5 }, () => r.nextUint32())).toEqual(G.rng.after_700);
  });
  it("refuses to choose from an empty list, as Python raises IndexError", () => {
    expect(() => new PythonRandom(42).choice([])).toThrow(/empty sequence/);
  });
});

describe("parse_multi_choice_response (golden, one generator seeded 42 in the official order)", () => {
  const rng = new PythonRandom(42);
  const { allChoices, index2ans } = multiChoiceInfo(G.options);
  // Cases run in fixture order: each random fallback consumes the shared generator as the official run did.
  const results = G.multiChoice.map((c) => {
    const info = c.options ? multiChoiceInfo(c.options) : { allChoices, index2ans };
    return parseMultiChoiceResponse(c.response, info.allChoices, info.index2ans, rng).pred;
  });
  it.each(G.multiChoice.map((c, i) => [JSON.stringify(c.response), i, c.expected]))(
    "%s → official letter",
    (_n, i, expected) => {
      expect(results[i as number]).toBe(expected);
    },
  );
  it("robust mode strips punctuation in one pass and reads (b) as (B)", () => {
    const r = new PythonRandom(42);
    expect(parseMultiChoiceResponse("B,.", allChoices, index2ans, r, "robust")).toEqual({
      pred: "B",
      source: "letter",
    });
    expect(parseMultiChoiceResponse("(b)", allChoices, index2ans, r, "robust")).toEqual({
      pred: "B",
      source: "bracket",
    });
  });
});

describe("extract_numbers (golden)", () => {
  it.each(G.numbers.map((c) => [JSON.stringify(c.text), c.text, c.expected]))("%s", (_n, text, expected) => {
    expect(extractNumbers(text as string)).toEqual(expected);
  });
});

describe("normalize_str (golden, Python float() and round(x, 2))", () => {
  it.each(G.normalize.map((c) => [JSON.stringify(c.text), c.text, c.expected]))(
    "%s",
    (_n, text, expected) => {
      expect(normalizeStr(text as string).map(encode)).toEqual((expected as Enc[]).map(decode));
    },
  );
  it("check_is_number accepts what Python's float accepts once commas are dropped", () => {
    expect(checkIsNumber("1,2,3")).toBe(true);
    expect(checkIsNumber("1_000")).toBe(true);
    expect(checkIsNumber("12 kg")).toBe(false);
  });
});

describe("parse_open_response (golden, compared as sets)", () => {
  it.each(G.open.map((c) => [JSON.stringify(c.response), c.response, c.expected]))(
    "%s",
    (_n, response, expected) => {
      const got = parseOpenResponse(response as string)
        .map(encode)
        .sort();
      const want = [...new Set((expected as Enc[]).map(decode))].sort();
      expect(got).toEqual(want);
    },
  );
});

describe("eval_open and eval_multi_choice verdicts (golden)", () => {
  const parsed = new Map<string, MmmuValue[]>();
  it(`all ${G.openVerdicts.length} open verdicts match`, () => {
    const wrong: string[] = [];
    for (const c of G.openVerdicts) {
      let p = parsed.get(c.response);
      if (!p) parsed.set(c.response, (p = parseOpenResponse(c.response)));
      if (evalOpen(c.gold, p) !== c.expected)
        wrong.push(`${JSON.stringify(c.response)} vs ${JSON.stringify(c.gold)}`);
    }
    expect(wrong).toEqual([]);
  });
  it.each(G.mcVerdicts.map((c) => [JSON.stringify(c.gold), JSON.stringify(c.pred), c]))(
    "gold %s, pred %s",
    (_g, _p, c) => {
      expect(evalMultiChoice(c.gold, c.pred)).toBe(c.expected);
    },
  );
});

describe("scoreMmmu: a whole run against main_parse_and_eval.py + main_eval_only.py", () => {
  // The official run shares the module-level generator with the parse cases above: replay them first.
  const rng = new PythonRandom(42);
  const { allChoices, index2ans } = multiChoiceInfo(G.options);
  for (const c of G.multiChoice) {
    const info = c.options ? multiChoiceInfo(c.options) : { allChoices, index2ans };
    parseMultiChoiceResponse(c.response, info.allChoices, info.index2ans, rng);
  }
  const data = G.run.data;
  const result = scoreMmmu(
    data,
    data.map((d) => ({ id: d.id, response: d.response })),
    // The official code sees the raw response; sr2se's default reads a \boxed{} answer first.
    { rng, boxed: false },
  );
  it("judges every question as the official run did", () => {
    const judges = Object.fromEntries(result.samples.map((s) => [s.id, s.correct ? "Correct" : "Wrong"]));
    expect(judges).toEqual(Object.fromEntries(G.run.judges.map((j) => [j.id, j.judge])));
  });
  it("prints the same table: keys, order, num and 3-decimal acc", () => {
    const printable = Object.fromEntries(
      Object.entries(result.printable).map(([k, v]) => [k, { num: v.num, acc: v.acc }]),
    );
    expect(Object.keys(printable)).toEqual(Object.keys(G.run.printable));
    expect(printable).toEqual(G.run.printable);
    expect(result.overall.accuracy).toBe(G.run.overall_unrounded);
  });
  it("rounds 1/16 = 0.0625 half to even, to 0.062, as Python does", () => {
    expect(result.printable.Math?.acc).toBe(G.run.printable.Math?.acc);
  });
});

describe("scoreMmmu options and bad input", () => {
  const q = (id: string, answer: string, options?: string[]): MmmuQuestion => ({
    id,
    question_type: options ? "multiple-choice" : "open",
    answer,
    options,
  });
  it("reads the subject from the id", () => {
    expect(subjectOfId("validation_Art_Theory_12")).toBe("Art_Theory");
  });
  it("parses the Hugging Face options string", () => {
    expect(parsePythonStringList("['a cat', \"it's\", 'x\\'y']", "q")).toEqual(["a cat", "it's", "x'y"]);
  });
  it("eval_only compares the response letter as is", () => {
    const r = scoreMmmu(
      [q("validation_Math_1", "A", ["1", "2"])],
      [{ id: "validation_Math_1", response: "(A)" }],
      {
        pipeline: "eval_only",
      },
    );
    expect(r.samples[0]?.correct).toBe(false);
  });
  it("robust mode gives no credit where nothing parses, official guesses", () => {
    const data = [q("validation_Math_1", "A", ["1", "2"])];
    const preds = [{ id: "validation_Math_1", response: "no idea" }];
    expect(scoreMmmu(data, preds).randomPicks).toBe(1);
    const robust = scoreMmmu(data, preds, { mode: "robust" });
    expect(robust.samples[0]).toMatchObject({ parsed: "", source: "none", correct: false });
  });
  it("robust mode reads a list-literal gold answer as a list", () => {
    const data = [q("validation_Math_1", "['1.2', '3.4']")];
    const preds = [{ id: "validation_Math_1", response: "The answer is 3.4" }];
    expect(scoreMmmu(data, preds).samples[0]?.correct).toBe(false);
    expect(scoreMmmu(data, preds, { mode: "robust" }).samples[0]?.correct).toBe(true);
  });
  it("scores subjects outside MMMU's thirty under Other", () => {
    const r = scoreMmmu([q("val_Shapes_1", "3")], [{ id: "val_Shapes_1", response: "3" }]);
    expect(r.disciplines.Other).toMatchObject({ num: 1, acc: 1 });
  });
  it("needs options to parse a multiple-choice response", () => {
    expect(() =>
      scoreMmmu(
        [{ id: "validation_Math_1", question_type: "multiple-choice", answer: "A" }],
        [{ id: "validation_Math_1", response: "A" }],
      ),
    ).toThrow(/validation_Math_1: a multiple-choice question needs "options"/);
  });
  it("lists missing, unknown and duplicate ids", () => {
    const data = [q("validation_Math_1", "1"), q("validation_Math_2", "2")];
    expect(() => scoreMmmu(data, [{ id: "validation_Math_1", response: "" }])).toThrow(
      /have no prediction: validation_Math_2/,
    );
    expect(() =>
      scoreMmmu(data, [
        { id: "validation_Math_1", response: "" },
        { id: "validation_Math_2", response: "" },
        { id: "x", response: "" },
      ]),
    ).toThrow(/not in the data: x/);
    expect(() =>
      scoreMmmu(data, [
        { id: "validation_Math_1", response: "" },
        { id: "validation_Math_1", response: "" },
      ]),
    ).toThrow(/duplicate prediction ids: validation_Math_1/);
  });
  it("draws random picks in subject order (data_utils.py's) unless asked for file order", () => {
    const data = [
      q("validation_Math_1", "A", ["1", "2", "3", "4", "5"]),
      q("validation_Art_1", "A", ["1", "2"]),
    ];
    const preds = data.map((d) => ({ id: d.id, response: "?" }));
    const official = scoreMmmu(data, preds);
    const expected = new PythonRandom(42);
    const art = expected.choice(["A", "B"]);
    const math = expected.choice(["A", "B", "C", "D", "E"]);
    expect(official.samples.map((s) => s.parsed)).toEqual([math, art]);
    const fileOrder = scoreMmmu(data, preds, { order: "data" });
    const again = new PythonRandom(42);
    expect(fileOrder.samples.map((s) => s.parsed)).toEqual([
      again.choice(["A", "B", "C", "D", "E"]),
      again.choice(["A", "B"]),
    ]);
  });
  it("reads the boxed answer by default and the whole response with boxed: false", () => {
    const data = [q("validation_Math_1", "B", ["x", "y"])];
    const preds = [{ id: "validation_Math_1", response: "<think>not A</think> \\boxed{B}" }];
    expect(scoreMmmu(data, preds).samples[0]).toMatchObject({ parsed: "B", source: "letter" });
    expect(scoreMmmu(data, preds, { boxed: false }).samples[0]?.source).toBe("random");
  });
  it("an empty response is a wrong answer, not an error", () => {
    const r = scoreMmmu([q("validation_Math_1", "7")], [{ id: "validation_Math_1", response: "" }]);
    expect(r.samples[0]?.correct).toBe(false);
  });
});

describe("readMmmuQuestions", () => {
  it("reads Hugging Face rows and answer_dict_val.json", async () => {
    const { mkdtemp, writeFile } = await import("node:fs/promises");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const dir = await mkdtemp(join(tmpdir(), "mmmu-"));
    await writeFile(
      join(dir, "val.jsonl"),
      `${JSON.stringify({ id: "validation_Art_1", question_type: "multiple-choice", options: "['a', 'b']", answer: "B" })}\n${JSON.stringify({ id: "validation_Art_2", question_type: "open" })}\n`,
    );
    await expect(readMmmuQuestions(join(dir, "val.jsonl"))).rejects.toThrow(
      /val\.jsonl:2: field "answer" is missing/,
    );
    await writeFile(
      join(dir, "answer_dict_val.json"),
      JSON.stringify({ validation_Art_1: { question_type: "open", ground_truth: ["1", "2"] } }, null, 2),
    );
    const qs = await readMmmuQuestions(join(dir, "answer_dict_val.json"));
    expect(qs[0]).toMatchObject({ id: "validation_Art_1", question_type: "open", answer: ["1", "2"] });
  });
});
