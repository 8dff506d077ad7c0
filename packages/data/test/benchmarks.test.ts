import { mkdtemp, readdir, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import { buildBenchmarks, category, type ShapeObject } from "../src/index.js";

// biome-ignore lint/suspicious/noExplicitAny: the sets are checked field by field below
type Problem = Record<string, any>;
let dir: string;
const read = async <T>(name: string): Promise<T[]> =>
  (await readFile(join(dir, name), "utf8"))
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as T);

interface Q {
  question_id: number;
  image: string;
  text: string;
  label: string;
}
let gt: { image: string; objects: string[] }[];
let scenes: Map<string, ShapeObject[]>;
const objectOf = (text: string) => /^Is there an? (\w+ \w+) in the image\?$/.exec(text)?.[1] as string;

/** Objects sorted by a count, descending, ties broken by first appearance (POPE's stable sort). */
function ranked(counts: Map<string, number>, firstSeen: string[]): string[] {
  return [...counts.keys()].sort(
    (a, b) => (counts.get(b) ?? 0) - (counts.get(a) ?? 0) || firstSeen.indexOf(a) - firstSeen.indexOf(b),
  );
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "sr2se-bench-"));
  await buildBenchmarks({ out: dir, seed: 11, counts: { pope: 80, mmmu: 36, mathvista: 30, mmvet: 24 } });
  gt = await read("pope_ground_truth.jsonl");
  scenes = new Map(
    (await read<{ image: string; objects: ShapeObject[] }>("scenes.jsonl")).map((s) => [s.image, s.objects]),
  );
});

describe("POPE sets", () => {
  test.each(["random", "popular", "adversarial"])(
    "%s: yes objects are present, no objects absent, 50/50",
    async (split) => {
      const qs = await read<Q>(`pope_${split}.jsonl`);
      expect(qs.length).toBe(80 * 6);
      expect(qs.filter((q) => q.label === "yes").length).toBe(qs.length / 2);
      for (const q of qs) {
        expect(Object.keys(q)).toEqual(["question_id", "image", "text", "label"]);
        const present = (scenes.get(q.image) ?? []).map(category);
        expect(present.length).toBeGreaterThan(0);
        expect(present.includes(objectOf(q.text)), q.text).toBe(q.label === "yes");
      }
      expect(new Set(qs.map((q) => q.question_id)).size).toBe(qs.length);
    },
  );

  test("adversarial negatives are the absent objects that co-occur most with each positive", async () => {
    const firstSeen: string[] = [];
    const co = new Map<string, Map<string, number>>();
    for (const img of gt)
      for (const a of img.objects) {
        if (!firstSeen.includes(a)) firstSeen.push(a);
        if (!co.has(a)) co.set(a, new Map());
      }
    const order = new Map<string, string[]>();
    for (const img of gt)
      for (const a of img.objects)
        for (const b of img.objects) {
          if (a === b) continue;
          const row = co.get(a) as Map<string, number>;
          row.set(b, (row.get(b) ?? 0) + 1);
          const seen = order.get(a) ?? [];
          if (!seen.includes(b)) seen.push(b);
          order.set(a, seen);
        }
    const qs = await read<Q>("pope_adversarial.jsonl");
    let checked = 0;
    for (let i = 0; i < qs.length; i += 6) {
      const img = gt.find((g) => g.image === qs[i].image) as { objects: string[] };
      const history: string[] = [];
      for (let k = 0; k < 6; k += 2) {
        const pos = objectOf(qs[i + k].text);
        const neg = objectOf(qs[i + k + 1].text);
        history.push(pos);
        const candidates = ranked(co.get(pos) ?? new Map(), order.get(pos) ?? []).filter(
          (o) => !img.objects.includes(o) && !history.includes(o),
        );
        if (candidates.length > 0) {
          expect(neg).toBe(candidates[0]);
          checked++;
        }
        history.push(neg);
      }
    }
    expect(checked).toBeGreaterThan(200);
  });

  test("popular negatives are the most frequent absent objects of the set", async () => {
    const freq = new Map<string, number>();
    const firstSeen: string[] = [];
    for (const img of gt)
      for (const o of img.objects) {
        freq.set(o, (freq.get(o) ?? 0) + 1);
        if (!firstSeen.includes(o)) firstSeen.push(o);
      }
    const byFreq = ranked(freq, firstSeen);
    const qs = await read<Q>("pope_popular.jsonl");
    for (let i = 0; i < qs.length; i += 6) {
      const img = gt.find((g) => g.image === qs[i].image) as { objects: string[] };
      const history: string[] = [];
      for (let k = 0; k < 6; k += 2) {
        history.push(objectOf(qs[i + k].text));
        const expected = byFreq.find((o) => !img.objects.includes(o) && !history.includes(o));
        expect(objectOf(qs[i + k + 1].text)).toBe(expected);
        history.push(expected as string);
      }
    }
  });

  test("the theme prior makes adversarial negatives the usual partners", async () => {
    const qs = await read<Q>("pope_adversarial.jsonl");
    const partners = new Set([
      "red circle",
      "yellow circle",
      "green circle",
      "green triangle",
      "pink star",
      "brown square",
      "blue diamond",
      "blue hexagon",
      "yellow star",
      "purple hexagon",
      "blue circle",
      "orange square",
      "brown hexagon",
      "red diamond",
    ]);
    const negs = qs.filter((q) => q.label === "no").map((q) => objectOf(q.text));
    expect(negs.filter((o) => partners.has(o)).length / negs.length).toBeGreaterThan(0.5);
  });
});

describe("MMMU-, MathVista- and MM-Vet-style sets", () => {
  test("MMMU-style problems have MMMU's fields, a subject per family, a valid answer", async () => {
    const ps = await read<Record<string, unknown>>("mmmu.jsonl");
    expect(ps.length).toBe(36);
    expect(new Set(ps.map((p) => p.subject)).size).toBe(6);
    for (const p of ps) {
      for (const k of ["id", "question", "options", "answer", "question_type", "subject", "image_1"])
        expect(p).toHaveProperty(k);
      expect(p.question as string).toMatch(/^<image 1> /);
      if (p.question_type === "multiple-choice")
        expect("ABCD".slice(0, (p.options as string[]).length)).toContain(p.answer);
      else expect(p.options).toEqual([]);
    }
  });

  test("MathVista-style problems have MathVista's fields; integer answers recount from the scene", async () => {
    const ps = await read<Problem>("mathvista.jsonl");
    expect(ps.length).toBe(30);
    for (const p of ps) {
      for (const k of [
        "pid",
        "question",
        "query",
        "choices",
        "answer",
        "question_type",
        "answer_type",
        "precision",
        "metadata",
      ])
        expect(p).toHaveProperty(k);
      expect(p.metadata.task).toBeTypeOf("string");
      expect(p.metadata.skills.length).toBeGreaterThan(0);
      const objs = scenes.get(p.image) as ShapeObject[];
      const count = (shapePlural: string) =>
        objs.filter((o) => `${o.shape}s` === shapePlural || `${o.color} objects` === shapePlural).length;
      const m = /^How many (\w+(?: objects)?) are there\?$/.exec(p.question);
      const sum = /^How many (.+) and (.+) are there in total\?$/.exec(p.question);
      if (m) expect(p.answer).toBe(String(count(m[1])));
      if (sum) expect(p.answer).toBe(String(count(sum[1]) + count(sum[2])));
      if (p.question_type === "multi_choice") {
        expect(p.choices).toContain(p.answer);
        expect(p.query).toMatch(/^Hint: Please answer the question and provide the correct option letter/);
      } else expect(p.query).toMatch(/^Hint: Please answer the question requiring an integer answer/);
    }
  });

  test("MM-Vet-style answers name the scene's objects with <AND> and alternatives with <OR>", async () => {
    const ps = await read<Problem>("mmvet.jsonl");
    for (const p of ps) {
      for (const k of ["question", "answer", "capability", "imagename"]) expect(p).toHaveProperty(k);
      const objs = (scenes.get(p.image) as ShapeObject[]).map(category);
      if (p.question.startsWith("What objects"))
        expect(p.answer.split(" <AND> ").sort()).toEqual([...new Set(objs)].sort());
      if (p.question.startsWith("How many")) expect(p.answer).toMatch(/^\d+ <OR> \w+$/);
    }
  });

  test("every referenced image exists, and scenes.jsonl covers them", async () => {
    const files = new Set((await readdir(join(dir, "images"))).map((f) => `images/${f}`));
    expect(files.size).toBe(80 + 36 + 30 + 24);
    for (const img of scenes.keys()) expect(files.has(img)).toBe(true);
  });
});
