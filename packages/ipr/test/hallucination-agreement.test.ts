// IPR's hallucination statistics and `sr2se eval score --bench chair` count the same responses the same way.
import path from "node:path";
import type { PreferencePair, Sample } from "@sr2se/core";
import { SHAPES_WORLD_VOCABULARY } from "@sr2se/data";
import { createHallucinationCounter, type EvalMode, scoreChair } from "@sr2se/eval";
import { describe, expect, it } from "vitest";
import { RefinementEngine, ScriptedPolicy } from "../src/index.js";
import { readLines, respond, sample, sampleIdOf, tempDir } from "./helpers.js";

const red = { shape: "circle", color: "red", size: "small", cell: [0, 0] as [number, number] };
const blue = { shape: "square", color: "blue", size: "large", cell: [1, 1] as [number, number] };

// Round 0 is wrong and describes what is not there; round 1 is right. Repeats, negations, plurals,
// synonyms and size words are where two extractors would part ways.
const PLAN: Record<string, { objects: Sample["objects"]; answer: string; rounds: [string, string] }> = {
  "s-a": {
    objects: [red],
    answer: "1",
    rounds: [
      respond("A red circle and a red circle. No green star. A violet diamond.", "3"),
      respond("FAITHFUL one small red circle, not a triangle", "1"),
    ],
  },
  "s-b": {
    objects: [red, blue],
    answer: "2",
    rounds: [
      respond("Two blue discs and a rhombus; a large blue square.", "4"),
      respond("FAITHFUL a red disc and a big blue square", "2"),
    ],
  },
  "s-c": {
    objects: [blue],
    answer: "1",
    rounds: [
      respond("Hexagons everywhere, and pink stars.", "0"),
      respond("FAITHFUL squares: a blue square", "1"),
    ],
  },
  "s-d": {
    objects: [red],
    answer: "1",
    rounds: [
      respond("Nothing but red circles.", "7"),
      respond("FAITHFUL a red circle and a yellow star", "1"),
    ],
  },
};

const samples = Object.entries(PLAN).map(([id, p]) => sample(id, p.answer, { objects: p.objects }));

function policy() {
  return new ScriptedPolicy(({ request, round, textOnly }) => {
    const id = sampleIdOf(request.messages[0].content) as string;
    if (textOnly) {
      const faithful = request.messages[0].content.includes("FAITHFUL");
      return `<think>From the text.</think> \\boxed{${faithful ? PLAN[id]?.answer : "no idea"}}`;
    }
    return (PLAN[id] as (typeof PLAN)[string]).rounds[Math.min(round, 1)];
  });
}

describe("IPR's hallucination statistics and eval's CHAIR", () => {
  it.each(["official", "robust"] as const)(
    "agree on the same responses (%s mode)",
    async (mode: EvalMode) => {
      const counter = createHallucinationCounter({ vocabulary: SHAPES_WORLD_VOCABULARY, mode });
      const engine = new RefinementEngine({ policy: policy(), rounds: 1, countHallucinations: counter });
      const out = path.join(await tempDir(), "pairs.jsonl");
      const { stats, errors } = await engine.run({ samples, out });
      expect(errors).toEqual([]);
      const pairs = await readLines<PreferencePair>(out);
      expect(pairs).toHaveLength(4);

      const chair = (side: "chosen" | "rejected") =>
        scoreChair(
          samples.map((s) => ({ id: s.id, objects: s.objects ?? [] })),
          pairs.map((p) => ({ id: p.sample_id, response: p[side] })),
          { vocabulary: SHAPES_WORLD_VOCABULARY, mode },
        );
      const h = stats.hallucination;
      expect(h).not.toBeNull();
      for (const [ipr, eval_] of [
        [h?.winners, chair("chosen")],
        [h?.losers, chair("rejected")],
      ] as const) {
        expect(ipr?.responses).toBe(eval_.responses);
        expect(ipr?.mentioned).toBe(eval_.mentions);
        expect(ipr?.hallucinated).toBe(eval_.hallucinated);
        expect(ipr?.rate).toBeCloseTo(eval_.chairI, 5);
        expect(ipr?.response_rate).toBeCloseTo(eval_.chairS, 5);
      }
      // The responses above do hallucinate, on both sides: the agreement is not one of zeros.
      expect(h?.losers.hallucinated).toBeGreaterThan(3);
      expect(h?.winners.hallucinated).toBeGreaterThan(0);
    },
  );

  it("counts every repeated and, in official mode, every negated mention, as CHAIR does", async () => {
    const official = createHallucinationCounter({ vocabulary: SHAPES_WORLD_VOCABULARY });
    const robust = createHallucinationCounter({ vocabulary: SHAPES_WORLD_VOCABULARY, mode: "robust" });
    const text = (PLAN["s-a"] as (typeof PLAN)[string]).rounds[0];
    expect(official(text, [red])).toEqual({
      mentioned: 4,
      hallucinated: 2,
      words: ["green star", "violet diamond"],
    });
    expect(robust(text, [red])).toMatchObject({ mentioned: 3, hallucinated: 1 });
  });
});
