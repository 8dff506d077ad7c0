import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import {
  answerText,
  descriptionText,
  EvalInputError,
  matchPredictions,
  readData,
  readPredictions,
} from "../src/index.js";

async function tmp(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "eval-pred-"));
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  return dir;
}

describe("readPredictions", () => {
  it("reads JSONL in order, empty responses included", async () => {
    const dir = await tmp({ "p.jsonl": '{"id":"a","response":"yes"}\n\n{"id":"b","response":""}\n' });
    expect(await readPredictions(join(dir, "p.jsonl"))).toEqual([
      { id: "a", response: "yes" },
      { id: "b", response: "" },
    ]);
  });
  it("reads a JSON array too", async () => {
    const dir = await tmp({ "p.json": '[{"id":"a","response":"x"}]' });
    expect(await readPredictions(join(dir, "p.json"))).toHaveLength(1);
  });
  it("names file, line and field of a record without a response", async () => {
    const dir = await tmp({ "p.jsonl": '{"id":"a","response":"x"}\n{"id":"b"}\n' });
    await expect(readPredictions(join(dir, "p.jsonl"))).rejects.toThrow(
      /p\.jsonl:2: field "response" is missing/,
    );
  });
  it("names the lines of duplicate ids", async () => {
    const dir = await tmp({
      "p.jsonl": '{"id":"a","response":"x"}\n{"id":"b","response":"x"}\n{"id":"a","response":"y"}\n',
    });
    const err = await readPredictions(join(dir, "p.jsonl")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EvalInputError);
    expect((err as EvalInputError).message).toMatch(
      /p\.jsonl: 1 duplicate prediction id: a \(lines 1 and 3\)/,
    );
    expect((err as EvalInputError).ids).toEqual(["a"]);
  });
  it("refuses an empty file", async () => {
    const dir = await tmp({ "p.jsonl": "\n\n" });
    await expect(readPredictions(join(dir, "p.jsonl"))).rejects.toMatchObject({ kind: "empty" });
  });
});

describe("readData", () => {
  it("reads an object keyed by id, setting the id field", async () => {
    const dir = await tmp({ "d.json": '{"7": {"question": "q"}, "8": {"pid": "x"}}' });
    const { records } = await readData(join(dir, "d.json"), { idField: "pid" });
    expect(records).toEqual([{ question: "q", pid: "7" }, { pid: "x" }]);
  });
  it("reads JSONL whose lines are objects", async () => {
    const dir = await tmp({ "d.jsonl": '{"id":1}\n{"id":2}\n' });
    expect((await readData(join(dir, "d.jsonl"))).lines).toEqual([1, 2]);
  });
  it("refuses a keyed object whose entry is not an object", async () => {
    const dir = await tmp({ "d.json": '{\n  "a": {"q": 1},\n  "b": 3\n}\n' });
    await expect(readData(join(dir, "d.json"))).rejects.toThrow(/d\.json: entry "b" is not an object/);
  });
  it("reads a one-line file holding one record as JSON Lines", async () => {
    const dir = await tmp({ "d.jsonl": '{"answer": "yes"}\n' });
    expect((await readData(join(dir, "d.jsonl"))).records).toEqual([{ answer: "yes" }]);
  });
  it("refuses an empty file", async () => {
    const dir = await tmp({ "d.jsonl": "" });
    await expect(readData(join(dir, "d.jsonl"))).rejects.toThrow(/no records/);
  });
});

describe("matchPredictions", () => {
  const p = (id: string) => ({ id, response: "" });
  it("maps predictions by id", () => {
    expect([...matchPredictions(["a", "b"], [p("b"), p("a")]).keys()]).toEqual(["b", "a"]);
  });
  it.each([
    [[], "empty", /no predictions/],
    [[p("a"), p("a"), p("b")], "duplicate", /1 duplicate prediction ids: a/],
    [[p("a"), p("b"), p("c")], "unknown", /1 prediction ids not in the data: c/],
    [[p("a")], "missing", /1 data ids have no prediction: b/],
  ] as const)("case %#: %s", (preds, kind, message) => {
    const err = (() => {
      try {
        matchPredictions(["a", "b"], preds);
      } catch (e) {
        return e as EvalInputError;
      }
    })();
    expect(err?.kind).toBe(kind);
    expect(err?.message).toMatch(message);
  });
  it("lists the first five offending ids and the count", () => {
    const ids = Array.from({ length: 8 }, (_, i) => `q${i}`);
    expect(() => matchPredictions(ids, [p("q0")])).toThrow(
      "7 data ids have no prediction: q1, q2, q3, q4, q5, … (7 in all)",
    );
  });
});

describe("answer and description of a response", () => {
  it.each([
    ["\\boxed{B}", "B"],
    ["<think>x</think> \\boxed{\\frac{1}{2}}", "\\frac{1}{2}"],
    ["\\boxed{1} then \\boxed{2}", "2"],
    ["plain answer", "plain answer"],
    ["", ""],
  ])("answerText(%j) is %j", (response, answer) => {
    expect(answerText(response)).toBe(answer);
  });
  it("descriptionText reads the <description> part", () => {
    expect(descriptionText("<description>A red circle.</description>\\boxed{1}")).toBe("A red circle.");
    expect(descriptionText("no tags")).toBe("no tags");
  });
});

describe("the README example", () => {
  it("scores a POPE prediction file in under 10 lines", async () => {
    const readme = await readFile(resolve(import.meta.dirname, "../README.md"), "utf8");
    const code = /## Score a POPE prediction file\s+```js\n([\s\S]*?)```/.exec(readme)?.[1];
    if (!code) throw new Error("README has no POPE example");
    expect(code.trim().split("\n").length).toBeLessThan(10);
    const dir = await tmp({});
    const labels = ["yes", "no", "yes", "no"];
    const preds: string[] = [];
    for (const split of ["random", "popular", "adversarial"]) {
      const lines = labels.map((label, i) =>
        JSON.stringify({
          question_id: i + 1,
          image: `COCO_${i}.jpg`,
          text: "Is there a dog in the image?",
          label,
        }),
      );
      await writeFile(join(dir, `coco_pope_${split}.json`), `${lines.join("\n")}\n`);
      for (const [i, label] of labels.entries()) {
        const response = i === 3 ? "Yes, there is." : `${label}.`;
        preds.push(JSON.stringify({ id: `${split}/${i + 1}`, response }));
      }
    }
    await writeFile(join(dir, "predictions.jsonl"), preds.join("\n"));
    const evalPackage = await import("../src/index.js");
    const printed: string[] = [];
    const body = code
      .replace(/import \{([^}]*)\} from "@sr2se\/eval";/, "const {$1} = EVAL;")
      .replaceAll("console.log(", "log(");
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      // The example's own lines, with `@sr2se/eval` bound to this package's source and console.log captured.
      const run = new Function("EVAL", "log", `return (async () => { ${body} })();`) as (
        m: unknown,
        log: (s: string) => void,
      ) => Promise<void>;
      await run(evalPackage, (s) => printed.push(s));
    } finally {
      process.chdir(cwd);
    }
    expect(printed[0]).toContain("| average | 12 | 75.00 | 66.67 | 100.00 | 80.00 | 75.00 | 6 | 3 | 3 | 0 |");
  });
});
