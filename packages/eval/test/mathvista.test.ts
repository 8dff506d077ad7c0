import { readFileSync } from "node:fs";
import { OpenAIError } from "@sr2se/core";
import { describe, expect, it } from "vitest";
import {
  createMathVistaExtractor,
  createTestPrompt,
  extractAnswer,
  extractAnswerByRules,
  getMostSimilar,
  levenshtein,
  MATHVISTA_DEMO_PROMPT,
  type MathVistaProblem,
  normalizeExtractedAnswer,
  pyFloat,
  pyFloatRepr,
  pyFormatFixed,
  pyRound,
  safeEqual,
  scoreMathVista,
  truncToBigInt,
} from "../src/mathvista/index.js";

// Expected values come from scripts/mathvista_reference.py run under CPython (see its header).
const fixture = JSON.parse(readFileSync(new URL("./fixtures/mathvista.json", import.meta.url), "utf8"));

type ExtractCase = {
  response: string;
  problem: Pick<MathVistaProblem, "question_type" | "answer_type" | "choices">;
  quick: boolean;
  expected: string;
};
type NormalizeCase = {
  extraction: string | null;
  choices: string[] | null;
  question_type: string;
  answer_type: string;
  precision: unknown;
  ignore_empty: boolean;
  expected: string | null;
};

function fromHex(hex: string): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, BigInt(`0x${hex}`));
  return view.getFloat64(0);
}

describe("extract_answer rule branches (official)", () => {
  it.each(fixture.extract as ExtractCase[])("extracts %j", async (c) => {
    const got = await extractAnswer(
      c.response,
      { pid: "1", question: "q", answer: "", ...c.problem },
      { quickExtract: c.quick },
    );
    expect(got.extraction).toBe(c.expected);
  });
});

describe("normalize_extracted_answer (official)", () => {
  it.each(fixture.normalize as NormalizeCase[])("normalizes %j", (c) => {
    const got = normalizeExtractedAnswer(
      c.extraction,
      c.choices,
      c.question_type,
      c.answer_type,
      c.precision,
      {
        ignoreEmptyExtractions: c.ignore_empty,
      },
    );
    expect(got).toBe(c.expected);
  });
});

describe("safe_equal (official)", () => {
  it.each(fixture.equal as { prediction: string | null; answer: unknown; expected: boolean }[])(
    "compares %j",
    (c) => {
      expect(safeEqual(c.prediction, c.answer)).toBe(c.expected);
    },
  );
});

describe("Python float semantics against CPython", () => {
  const rows = fixture.numbers as {
    hex: string;
    repr: string;
    round: Record<string, string | null>;
    fixed2: string | null;
    int: string | null;
  }[];
  it("repr of 150 doubles matches str(float)", () => {
    for (const r of rows) expect(pyFloatRepr(fromHex(r.hex))).toBe(r.repr);
  });
  it("round(x, n) for n in 0,1,2,3,5,-1,-3 matches CPython", () => {
    for (const r of rows) {
      for (const [nd, expected] of Object.entries(r.round)) {
        let got: string | null;
        try {
          got = pyFloatRepr(pyRound(fromHex(r.hex), Number(nd)));
        } catch {
          got = null;
        }
        expect(got, `round(${r.repr}, ${nd})`).toBe(expected);
      }
    }
  });
  it("format .2f and int() truncation match CPython", () => {
    for (const r of rows) {
      const x = fromHex(r.hex);
      if (r.fixed2 !== null) expect(pyFormatFixed(x, 2)).toBe(r.fixed2);
      expect(Number.isFinite(x) ? truncToBigInt(x).toString() : null).toBe(r.int);
    }
  });
  it("float() accepts what Python accepts and nothing else", () => {
    expect(pyFloat("1_0.5e1_0")).toBe(1.05e11);
    expect(pyFloat("iNfInItY")).toBe(Number.POSITIVE_INFINITY);
    expect(pyFloat("1e")).toBeNull();
    expect(pyFloat("_1")).toBeNull();
    expect(pyFloat(".")).toBeNull();
  });
});

describe("Levenshtein distance", () => {
  it("counts code points, not UTF-16 units", () => {
    expect(levenshtein("😀", "x")).toBe(1);
    expect(levenshtein("kitten", "sitting")).toBe(3);
    expect(levenshtein("", "abc")).toBe(3);
  });
  it("get_most_similar keeps the first choice on a tie", () => {
    expect(getMostSimilar("ab", ["ax", "xb"])).toBe("ax");
  });
});

describe("scoreMathVista end to end (official)", () => {
  const ds = fixture.dataset as {
    problems: Record<string, MathVistaProblem>;
    responses: Record<string, string>;
    quick: boolean;
    verdicts: Record<string, { extraction: string; prediction: string | null; true_false: boolean }>;
    scores: Record<string, unknown>;
  };
  const predictions = Object.entries(ds.responses).map(([id, response]) => ({ id, response }));

  it("gives calculate_score.py's verdict for each of 60 problems", async () => {
    const result = await scoreMathVista(ds.problems, predictions, { quickExtract: ds.quick });
    for (const row of result.problems) {
      const expected = ds.verdicts[row.pid];
      expect(
        { extraction: row.extraction, prediction: row.prediction, true_false: row.true_false },
        row.pid,
      ).toEqual(expected);
    }
  });

  it("gives calculate_score.py's scores.json, groups ordered as pandas orders them", async () => {
    const result = await scoreMathVista(ds.problems, predictions, { quickExtract: ds.quick });
    const expected = ds.scores as Record<string, Record<string, { accuracy: number }>>;
    expect(result.scores.average).toEqual(expected.average);
    for (const key of Object.keys(expected)) {
      if (key === "average") continue;
      const got = result.scores[key] as Record<string, { accuracy: number }>;
      expect(got, key).toEqual(expected[key]);
      if (key === "skills") {
        // Python's set() order of the skill names is hash-seeded: only the accuracy order is fixed.
        const accs = Object.values(got).map((c) => c.accuracy);
        expect([...accs].sort((a, b) => b - a)).toEqual(accs);
      } else {
        expect(Object.keys(got), key).toEqual(Object.keys(expected[key] as object));
      }
    }
    expect(result.table).toContain("| overall | all | 30.00% | 18/60 |");
    expect(result.headline).toEqual({ metric: "accuracy", value: 30 });
    expect(JSON.parse(JSON.stringify(result)).scores).toEqual(result.scores);
  });
});

const mc: MathVistaProblem = {
  pid: "7",
  question: "What fraction of the shape is blue?",
  query: "Question: What fraction of the shape is blue?",
  choices: ["3/11", "8/11", "6/11", "3/5"],
  answer: "8/11",
  question_type: "multi_choice",
  answer_type: "text",
  metadata: {
    task: "figure question answering",
    family: "count",
    skills: ["arithmetic reasoning", "arithmetic reasoning"],
  },
};
const fl: MathVistaProblem = {
  pid: "8",
  question: "What is x?",
  choices: null,
  answer: "0.5",
  precision: null,
  question_type: "free_form",
  answer_type: "float",
  metadata: { task: "math word problem", skills: ["algebraic reasoning"] },
};

describe("the LLM extractor hook", () => {
  it("is called only where the rules find nothing, with the official prompt", async () => {
    const seen: string[] = [];
    const extractor = async (req: { prompt: string }) => {
      seen.push(req.prompt);
      return "B";
    };
    const ruled = await extractAnswer("8/11", mc, { extractor });
    expect(ruled.method).toBe("choice");
    const asked = await extractAnswer("I believe it is the second one.", mc, { extractor });
    expect(asked).toEqual({ extraction: "B", method: "llm" });
    expect(seen).toEqual([
      createTestPrompt(MATHVISTA_DEMO_PROMPT, mc.query as string, "I believe it is the second one."),
    ]);
    expect(seen[0]?.endsWith("\n\nI believe it is the second one.\n\nExtracted answer: ")).toBe(true);
    expect(seen[0]?.startsWith("Please read the following example.")).toBe(true);
  });
  it("an extractor that throws gives an empty extraction, as the official script does", async () => {
    const result = await scoreMathVista([mc], [{ id: "7", response: "hmm" }], {
      extractor: async () => {
        throw new Error("503");
      },
    });
    expect(result.extractorErrors).toBe(1);
    // official quirk: "" is closest (by edit distance) to the shortest choice.
    expect(result.problems[0]?.prediction).toBe("3/5");
  });
  it("an extractor whose endpoint refuses every request stops the scoring after the calls in flight", async () => {
    let calls = 0;
    const problems = Array.from({ length: 40 }, (_, i) => ({ ...mc, pid: String(100 + i) }));
    const predictions = problems.map((p) => ({ id: p.pid, response: "hmm" }));
    const run = scoreMathVista(problems, predictions, {
      concurrency: 4,
      extractor: async ({ signal }) => {
        calls++;
        await new Promise((r) => setTimeout(r, 5));
        if (signal?.aborted) throw new Error("aborted");
        throw new OpenAIError("http://x/v1/chat/completions: HTTP 401: invalid api key", 401);
      },
    });
    await expect(run).rejects.toThrow(/HTTP 401: invalid api key/);
    expect(calls).toBeLessThanOrEqual(4);
  });
  it("counts responses left unextracted when no extractor is given", async () => {
    const result = await scoreMathVista([mc], [{ id: "7", response: "hmm" }]);
    expect(result.unextracted).toBe(1);
    expect(extractAnswerByRules("hmm", mc)).toBeNull();
  });
});

describe("robust mode", () => {
  it("an empty response is wrong instead of the shortest choice", async () => {
    const off = await scoreMathVista([{ ...mc, answer: "3/5" }], [{ id: "7", response: "" }]);
    const rob = await scoreMathVista([{ ...mc, answer: "3/5" }], [{ id: "7", response: "" }], {
      mode: "robust",
    });
    expect(off.scores.average.correct).toBe(1);
    expect(rob.scores.average.correct).toBe(0);
  });
  it("reads \\boxed{} and a float answer's decimals when precision is missing", async () => {
    const preds = [{ id: "8", response: "<think>x = 1/2</think>\n\\boxed{0.50}" }];
    const off = await scoreMathVista([fl], preds);
    const rob = await scoreMathVista([fl], preds, { mode: "robust" });
    expect(off.problems[0]?.prediction).toBeNull();
    expect(rob.problems[0]?.prediction).toBe("0.5");
    expect(rob.scores.average.accuracy).toBe(1);
  });
  it("turns -0.0 into 0.0", () => {
    expect(normalizeExtractedAnswer("-0.04", null, "free_form", "float", 1, { mode: "robust" })).toBe("0.0");
  });
  it("compares a numeric answer in the data as a string", () => {
    expect(safeEqual("3", 3)).toBe(false);
    expect(safeEqual("3", 3, "robust")).toBe(true);
  });
});

describe("aggregation and input checks", () => {
  it("a skill listed twice counts the problem once; extra metadata keys break down too", async () => {
    const result = await scoreMathVista(
      [mc, fl],
      [
        { id: "7", response: "8/11" },
        { id: "8", response: "0.5" },
      ],
      { extraKeys: ["family"] },
    );
    expect(result.scores.skills).toEqual({
      "arithmetic reasoning": { accuracy: 1, correct: 1, total: 1 },
      "algebraic reasoning": { accuracy: 0, correct: 0, total: 1 },
    });
    expect(result.scores.family).toEqual({ count: { accuracy: 1, correct: 1, total: 1 } });
    expect(result.samples).toEqual([
      { id: "7", score: 1 },
      { id: "8", score: 0 },
    ]);
  });
  it("names missing, duplicate and unknown prediction ids", async () => {
    await expect(scoreMathVista([mc, fl], [{ id: "7", response: "B" }])).rejects.toThrow(
      /mathvista: 1 data ids have no prediction: 8/,
    );
    await expect(
      scoreMathVista(
        [mc],
        [
          { id: "7", response: "B" },
          { id: "7", response: "C" },
        ],
      ),
    ).rejects.toThrow(/mathvista: 1 duplicate prediction ids: 7/);
    await expect(scoreMathVista([mc], [{ id: "9", response: "B" }])).rejects.toThrow(
      /mathvista: 1 prediction ids not in the data: 9/,
    );
    await expect(scoreMathVista([mc], [])).rejects.toThrow(/no predictions/);
  });
  it("a problem without question_type is refused with its pid", async () => {
    await expect(
      scoreMathVista([{ ...mc, question_type: undefined } as never], [{ id: "7", response: "x" }]),
    ).rejects.toThrow('mathvista: problem 7: field "question_type" is missing');
  });
  it("a problem without an answer is refused (it would equal a failed normalization)", async () => {
    await expect(
      scoreMathVista([{ ...fl, answer: undefined }], [{ id: "8", response: "x" }]),
    ).rejects.toThrow('mathvista: problem 8: field "answer" is missing');
  });
  it("a multiple-choice problem without choices fails clearly in official mode", async () => {
    await expect(scoreMathVista([{ ...mc, choices: null }], [{ id: "7", response: "x" }])).rejects.toThrow(
      /problem 7: multi_choice problem has no "choices"/,
    );
  });
});

describe("the README example", () => {
  it("scores one integer problem", async () => {
    const data = [
      {
        pid: "1",
        question: "How many circles?",
        choices: null,
        answer: "3",
        precision: null,
        question_type: "free_form",
        answer_type: "integer",
        metadata: { task: "counting", skills: ["arithmetic reasoning"] },
      },
    ];
    const result = await scoreMathVista(data, [{ id: "1", response: "3" }]);
    expect(result.table).toContain("| overall | all | 100.00% | 1/1 |");
  });
});

describe("the OpenAI-compatible extractor", () => {
  it("sends the official extraction request to a local endpoint and strips the reply", async () => {
    const { createServer } = await import("node:http");
    const bodies: Record<string, unknown>[] = [];
    const replies = ["   ", " (B) 8/11 \n"];
    const server = createServer((req, res) => {
      let data = "";
      req.on("data", (c) => {
        data += c;
      });
      req.on("end", () => {
        bodies.push(JSON.parse(data));
        res.writeHead(200, { "content-type": "application/json" });
        res.end(
          JSON.stringify({
            model: "m",
            choices: [{ message: { role: "assistant", content: replies.shift() } }],
          }),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const port = (server.address() as { port: number }).port;
      const extractor = createMathVistaExtractor({
        baseURL: `http://127.0.0.1:${port}/v1`,
        model: "gpt-4-0613",
        maxRetries: 0,
      });
      const result = await scoreMathVista([mc], [{ id: "7", response: "It is the second option." }], {
        extractor,
      });
      expect(result.problems[0]).toMatchObject({
        extraction: "(B) 8/11",
        method: "llm",
        prediction: "8/11",
        true_false: true,
      });
      expect(bodies).toHaveLength(2);
      expect(bodies[0]).toMatchObject({ model: "gpt-4-0613", temperature: 0, max_tokens: 256 });
      const messages = bodies[0]?.messages as { role: string; content: string }[];
      expect(messages).toEqual([
        {
          role: "user",
          content: createTestPrompt(MATHVISTA_DEMO_PROMPT, mc.query as string, "It is the second option."),
        },
      ]);
    } finally {
      server.close();
    }
  });
});
