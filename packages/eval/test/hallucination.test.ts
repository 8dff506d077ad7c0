import { Rng } from "@sr2se/core";
import {
  COLORS,
  DEFAULT_WORLD_CONFIG,
  describeScene,
  SHAPES,
  SHAPES_WORLD_VOCABULARY,
  sampleScene,
} from "@sr2se/data";
import { describe, expect, it } from "vitest";
import {
  type ChairSample,
  chairOfResponse,
  chairTotals,
  compileVocabulary,
  createHallucinationCounter,
  findMentions,
  popeFalsePositiveRate,
  readChairSamples,
  scoreChair,
  scorePope,
} from "../src/index.js";

const vocabulary = SHAPES_WORLD_VOCABULARY;

const scene = [
  { shape: "circle", color: "red", size: "small", cell: [0, 0] },
  { shape: "square", color: "blue", size: "large", cell: [1, 1] },
  { shape: "star", color: "purple", size: "small", cell: [2, 2] },
];

// [description, mentions, hallucinated mentions as written]: CHAIR counts every object mention (repeats too)
// and calls one hallucinated when the image has no such object; a colour before a shape must match too.
const CASES: [string, number, string[]][] = [
  ["A small red circle top-left.", 1, []],
  ["A red circle.", 1, []],
  ["A blue circle.", 1, ["blue circle"]],
  ["A circle.", 1, []],
  ["A triangle.", 1, ["triangle"]],
  ["A green triangle and a red circle.", 2, ["green triangle"]],
  ["A large blue square center.", 1, []],
  ["A large red square center.", 1, ["red square"]],
  ["Two red circles.", 1, []],
  ["Two blue circles.", 1, ["blue circles"]],
  ["A purple star bottom-right.", 1, []],
  ["A violet star.", 1, []],
  ["A yellow star.", 1, ["yellow star"]],
  ["A hexagon.", 1, ["hexagon"]],
  ["Some hexagons.", 1, ["hexagons"]],
  ["A diamond.", 1, ["diamond"]],
  ["A rhombus.", 1, ["rhombus"]],
  ["A red disc.", 1, []],
  ["A red dot.", 1, []],
  ["", 0, []],
  ["Nothing recognisable here.", 0, []],
  ["A red circle. A red circle.", 2, []],
  ["A pink star. A pink star.", 2, ["pink star", "pink star"]],
  ["RED CIRCLE", 1, []],
  ["Red circle, blue square, purple star.", 3, []],
  ["Red circle, green square, purple star.", 3, ["green square"]],
  ["A red, small circle.", 1, []],
  ["A red small circle.", 1, []],
  ["A small blue tiny square.", 1, []],
  ["A square that is red.", 1, []],
  ["The red one is a circle.", 1, []],
  ["A circle and a square and a star.", 3, []],
  ["A circle and a square and a star and a triangle.", 4, ["triangle"]],
  ["There is no triangle.", 1, ["triangle"]],
  ["Red. Circle.", 1, []],
  ["Blue. Circle.", 1, []],
  ["A brown hexagon and an orange diamond.", 2, ["brown hexagon", "orange diamond"]],
  ["Stars: one purple star.", 2, []],
  ["A blue-square.", 1, []],
  ["A purple square.", 1, ["purple square"]],
  ["A purple circle.", 1, ["purple circle"]],
  ["A square.\nA circle.", 2, []],
  ["circles squares stars", 3, []],
  ["circles squares stars triangles", 4, ["triangles"]],
  ["A large green star.", 1, ["green star"]],
  ["A small yellow diamond top.", 1, ["yellow diamond"]],
  ["A red square and a blue circle.", 2, ["red square", "blue circle"]],
  ["A bright red circle.", 1, []],
  ["A dark blue hexagon.", 1, ["blue hexagon"]],
  ["Squares.", 1, []],
  ["A squares-only image.", 1, []],
  ["An orange.", 0, []],
  ["A red.", 0, []],
];

describe("CHAIR mentions and hallucinations over the shapes world", () => {
  const vocab = compileVocabulary(SHAPES_WORLD_VOCABULARY);
  it.each(CASES)("%j: %i mentions, hallucinated %j", (text, mentions, words) => {
    const r = chairOfResponse(text, scene, { compiled: vocab });
    expect(r.mentions).toBe(mentions);
    expect(r.words).toEqual(words);
    expect(r.hallucinated).toBe(words.length);
    expect(r.score).toBe(words.length > 0 ? 1 : 0);
  });
});

describe("CHAIR aggregates", () => {
  const data: ChairSample[] = [
    { id: "a", objects: scene },
    { id: "b", objects: ["green triangle", "red circle"] },
    { id: "c", objects: [{ shape: "star" }] },
  ];
  const preds = [
    {
      id: "a",
      response: "<description>A red circle. A green square.</description><think>…</think>\\boxed{2}",
    },
    { id: "b", response: "A green triangle and a red circle." },
    { id: "c", response: "A yellow star and a hexagon." },
  ];
  it("CHAIR_i is hallucinated mentions over all mentions, CHAIR_s responses with any over all", () => {
    const r = scoreChair(data, preds, { vocabulary });
    expect(r.mentions).toBe(2 + 2 + 2);
    expect(r.hallucinated).toBe(1 + 0 + 1);
    expect(r.chairI).toBe(2 / 6);
    expect(r.chairS).toBe(2 / 3);
    expect(r.headline).toEqual({ metric: "CHAIR_i", value: (2 / 6) * 100, lowerIsBetter: true });
  });
  it("reads only the <description> of an sr2se response", () => {
    const r = scoreChair(
      [{ id: "a", objects: scene }],
      [{ id: "a", response: "<description>A red circle.</description>\\boxed{a blue hexagon}" }],
      { vocabulary },
    );
    expect(r.hallucinated).toBe(0);
  });
  it("shape granularity ignores colours", () => {
    const r = scoreChair(
      [{ id: "a", objects: scene }],
      [{ id: "a", response: "A blue circle and a triangle." }],
      { granularity: "shape", vocabulary },
    );
    expect(r.samples[0]?.words).toEqual(["triangle"]);
  });
  it("robust mode skips negated mentions", () => {
    const text = "There is no triangle and not a hexagon, but a red circle.";
    expect(chairOfResponse(text, scene, { vocabulary }).hallucinated).toBe(2);
    expect(chairOfResponse(text, scene, { mode: "robust", vocabulary })).toMatchObject({
      mentions: 1,
      hallucinated: 0,
    });
  });
  it("takes a custom vocabulary (COCO-like objects without attributes)", () => {
    const coco = { objects: { dog: ["dogs", "puppy"], "teddy bear": ["teddy bears"] }, attributes: {} };
    const r = chairOfResponse("A puppy next to two teddy bears and a dog.", ["dog"], { vocabulary: coco });
    expect(r).toMatchObject({ mentions: 3, hallucinated: 1, words: ["teddy bears"] });
  });
  it("finds mentions in order with their attribute", () => {
    const m = findMentions(
      "A small red circle; a blue, large square.",
      compileVocabulary(SHAPES_WORLD_VOCABULARY),
    );
    expect(m.map((x) => [x.object, x.attribute])).toEqual([
      ["circle", "red"],
      ["square", "blue"],
    ]);
  });
  it("refuses a vocabulary where a word means two things", () => {
    expect(() => compileVocabulary({ objects: { a: ["x"], b: ["x"] }, attributes: {} })).toThrow(
      /"x" means both "a" and "b"/,
    );
  });
  it("names the sample whose object is outside the vocabulary", () => {
    expect(() =>
      scoreChair([{ id: "s1", objects: [{ shape: "cube" }] }], [{ id: "s1", response: "" }], { vocabulary }),
    ).toThrow(/sample s1: objects\[0\]\.shape "cube"/);
  });
  it("lists missing prediction ids", () => {
    expect(() => scoreChair(data, preds.slice(0, 2), { vocabulary })).toThrow(/have no prediction: c/);
  });
});

describe("POPE false-positive rate", () => {
  it("is FP / (FP + TN) per split and averaged", () => {
    const r = scorePope(
      [
        { id: "1", split: "random", label: "no" },
        { id: "2", split: "random", label: "no" },
        { id: "3", split: "popular", label: "no" },
        { id: "4", split: "popular", label: "yes" },
      ],
      [
        { id: "1", response: "Yes" },
        { id: "2", response: "No" },
        { id: "3", response: "No" },
        { id: "4", response: "Yes" },
      ],
    );
    expect(popeFalsePositiveRate(r)).toEqual({ splits: { random: 0.5, popular: 0 }, average: 0.25 });
  });
});

describe("readChairSamples", () => {
  it("takes the image path as the id of a scenes.jsonl record and names a record without objects", async () => {
    const { mkdtemp, writeFile } = await import("node:fs/promises");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const dir = await mkdtemp(join(tmpdir(), "chair-"));
    await writeFile(
      join(dir, "scenes.jsonl"),
      `${JSON.stringify({ image: "images/a.png", objects: [{ shape: "star", color: "red" }] })}\n`,
    );
    expect(await readChairSamples(join(dir, "scenes.jsonl"))).toEqual([
      { id: "images/a.png", objects: [{ shape: "star", color: "red" }] },
    ]);
    await writeFile(join(dir, "bad.jsonl"), `${JSON.stringify({ id: "x" })}\n`);
    await expect(readChairSamples(join(dir, "bad.jsonl"))).rejects.toThrow(
      /bad\.jsonl:1: field "objects" is missing/,
    );
  });
});

describe("the shapes world's vocabulary from @sr2se/data", () => {
  it("covers every shape and colour the world draws: its own descriptions hallucinate nothing", () => {
    const rng = new Rng(11);
    for (let i = 0; i < 50; i++) {
      const { objects } = sampleScene(rng, DEFAULT_WORLD_CONFIG);
      const r = chairOfResponse(describeScene(objects), objects, { vocabulary });
      expect(r.mentions).toBe(objects.length);
      expect(r.hallucinated).toBe(0);
    }
    for (const shape of SHAPES)
      for (const color of COLORS) {
        const r = chairOfResponse(`A ${color} ${shape}.`, [{ shape, color }], { vocabulary });
        expect(r).toMatchObject({ mentions: 1, hallucinated: 0 });
      }
  });
});

describe("createHallucinationCounter", () => {
  const samples: ChairSample[] = [
    { id: "a", objects: scene },
    { id: "b", objects: [{ shape: "triangle", color: "green" }] },
    { id: "c", objects: [{ shape: "star" }] },
  ];
  const preds = [
    { id: "a", response: "<description>A red circle. No green square.</description>\\boxed{1}" },
    { id: "b", response: "A green triangle, a green triangle and a red circle." },
    { id: "c", response: "<description></description>A hexagon." },
  ];
  it.each(["official", "robust"] as const)("counts each response as scoreChair does (%s mode)", (mode) => {
    const count = createHallucinationCounter({ vocabulary, mode });
    const r = scoreChair(samples, preds, { vocabulary, mode });
    const counts = samples.map((s, i) => count((preds[i] as { response: string }).response, s.objects));
    expect(counts).toEqual(
      r.samples.map((s) => ({ mentioned: s.mentions, hallucinated: s.hallucinated, words: s.words })),
    );
    expect(chairTotals(r.samples)).toMatchObject({ chairI: r.chairI, chairS: r.chairS });
  });
});
