import { parseResponse } from "@sr2se/core";
import { describe, expect, test } from "vitest";
import {
  CELL_NAMES,
  category,
  describeScene,
  FAMILIES,
  resolveWorldConfig,
  type ShapesSample,
} from "../src/index.js";
import { matching, samples } from "./helpers/world.js";

const all = samples(1500, "questions").map((s) => s.sample);
const of = (family: string) => all.filter((s) => s.family === family);
const letter = (s: ShapesSample) => (s.choices as string[])["ABCDEFGHI".indexOf(s.answer)];

describe("gold answers, recounted independently from the object list", () => {
  test("counting answers equal a recount of the matching objects", () => {
    const count = of("count");
    expect(count.length).toBeGreaterThan(100);
    for (const s of count) {
      const noun = /^How many (.+) are there\?$/.exec(s.question)?.[1] as string;
      expect(s.answer, s.question).toBe(String(matching(s, noun)));
      expect(s.answer_type).toBe("integer");
    }
  });

  test("sums, differences and comparisons equal recounts", () => {
    let kinds = 0;
    for (const s of of("arithmetic")) {
      const sum = /^How many (.+) and (.+) are there in total\?$/.exec(s.question);
      const diff = /^How many more (.+) than (.+) are there\?$/.exec(s.question);
      const cmp = /^Which are more numerous: (.+) or (.+)\?\n/.exec(s.question);
      if (sum) expect(s.answer).toBe(String(matching(s, sum[1]) + matching(s, sum[2])));
      else if (diff) {
        const d = matching(s, diff[1]) - matching(s, diff[2]);
        expect(d).toBeGreaterThanOrEqual(0);
        expect(s.answer).toBe(String(d));
      } else if (cmp) {
        const [a, b] = [matching(s, cmp[1]), matching(s, cmp[2])];
        expect(letter(s)).toBe(a > b ? cmp[1] : a < b ? cmp[2] : "equal");
      } else throw new Error(`unexpected arithmetic question "${s.question}"`);
      kinds |= sum ? 1 : diff ? 2 : 4;
    }
    expect(kinds).toBe(7);
  });

  test("existence answers are yes exactly when the object is in the scene, about half of them", () => {
    const ex = of("existence");
    let yes = 0;
    for (const s of ex) {
      const target = /^Is there an? (\w+ \w+) in the image\?$/.exec(s.question)?.[1];
      const present = s.objects.some((o) => category(o) === target);
      expect(s.answer).toBe(present ? "yes" : "no");
      if (present) yes++;
    }
    expect(yes / ex.length).toBeGreaterThan(0.4);
    expect(yes / ex.length).toBeLessThan(0.6);
  });

  test("attribute, position and spatial answers follow from cells and attributes", () => {
    for (const s of of("attribute")) {
      const [, attr, where] = /^What (color|shape|size) is the object at ([\w-]+)\?/.exec(s.question) ?? [];
      const o = s.objects.find((p) => CELL_NAMES[p.cell[0]][p.cell[1]] === where);
      expect(o?.[attr as "color"]).toBe(letter(s));
    }
    for (const s of of("position")) {
      const name = /^Where is the (\w+ \w+)\?/.exec(s.question)?.[1];
      const hits = s.objects.filter((o) => category(o) === name);
      expect(hits.length).toBe(1);
      expect(CELL_NAMES[hits[0].cell[0]][hits[0].cell[1]]).toBe(letter(s));
    }
    for (const s of of("spatial")) {
      const [, a, rel, b] =
        /^Is the (\w+ \w+) (to the left of|to the right of|above|below) the (\w+ \w+)\?$/.exec(s.question) ??
        [];
      const oa = s.objects.find((o) => category(o) === a);
      const ob = s.objects.find((o) => category(o) === b);
      if (!oa || !ob) throw new Error(s.question);
      const holds = {
        "to the left of": oa.cell[1] < ob.cell[1],
        "to the right of": oa.cell[1] > ob.cell[1],
        above: oa.cell[0] < ob.cell[0],
        below: oa.cell[0] > ob.cell[0],
      }[rel];
      expect(s.answer).toBe(holds ? "yes" : "no");
    }
  });
});

describe("gold text", () => {
  test("every response is in the response format of @sr2se/core and boxes the gold answer", () => {
    for (const s of all) {
      const r = parseResponse(s.response);
      expect(r.formatOk).toBe(true);
      expect(r.level).toBe(2);
      expect(r.answer).toBe(s.answer);
      expect(r.description).toBe(s.description);
      expect(r.think).toBe(s.reasoning);
    }
  });

  test("the description names every object with its size, colour, shape and place", () => {
    for (const s of all.slice(0, 200)) {
      expect(s.description).toBe(describeScene(s.objects));
      for (const o of s.objects)
        expect(s.description).toContain(
          `${o.size} ${o.color} ${o.shape} ${CELL_NAMES[o.cell[0]][o.cell[1]]}.`,
        );
    }
  });

  test("existence reasoning spells out the lookup: the query, the objects of its shape, the color check", () => {
    for (const s of of("existence")) {
      const target = /^Is there an? (\w+ \w+)/.exec(s.question)?.[1] as string;
      const [color, shape] = target.split(" ");
      const same = s.objects
        .filter((o) => o.shape === shape)
        .map((o) => `${o.color} ${o.shape} ${CELL_NAMES[o.cell[0]][o.cell[1]]}`);
      const yes = s.objects.some((o) => o.color === color && o.shape === shape);
      expect(s.answer).toBe(yes ? "yes" : "no");
      expect(s.reasoning).toBe(
        `Find ${target}. Matches for ${shape}s: ${same.join(", ") || "none"}. Any ${color}: ${s.answer}. Answer: ${s.answer}.`,
      );
    }
  });

  test('existenceReasoning "matches": the lookup without the sentence that names the asked object first', () => {
    const plain = samples(300, "matches", { existenceReasoning: "matches" })
      .map((s) => s.sample)
      .filter((s) => s.family === "existence");
    const find = samples(300, "matches")
      .map((s) => s.sample)
      .filter((s) => s.family === "existence");
    expect(plain.length).toBe(find.length);
    for (const [i, s] of plain.entries()) {
      const target = /^Is there an? (\w+ \w+)/.exec(s.question)?.[1] as string;
      expect(find[i]?.reasoning).toBe(`Find ${target}. ${s.reasoning}`);
      expect(s.reasoning).toMatch(/^Matches for \w+s: .*\. Any \w+: (yes|no)\. Answer: (yes|no)\.$/);
    }
  });

  test('existenceReasoning "scan": every described object in order, each marked, then the answer', () => {
    const scanned = samples(400, "scan", { existenceReasoning: "scan" })
      .map((s) => s.sample)
      .filter((s) => s.family === "existence");
    expect(scanned.length).toBeGreaterThan(100);
    for (const s of scanned) {
      const target = /^Is there an? (\w+ \w+)/.exec(s.question)?.[1] as string;
      const marks = s.objects.map(
        (o) => `${o.color} ${o.shape} ${`${o.color} ${o.shape}` === target ? "yes" : "no"}`,
      );
      expect(s.reasoning).toBe(`Check each object for ${target}: ${marks.join(", ")}. Answer: ${s.answer}.`);
      expect(s.answer).toBe(marks.some((m) => m.endsWith(" yes")) ? "yes" : "no");
      // the objects are checked in the order the description names them
      const described = [...(s.description ?? "").matchAll(/An? \w+ (\w+ \w+) /g)].map((m) => m[1]);
      expect(described).toEqual(s.objects.map((o) => `${o.color} ${o.shape}`));
    }
    expect(() => resolveWorldConfig({ existenceReasoning: "list" as "scan" })).toThrow(
      /"existenceReasoning" must be "find", "matches", "scan" or "lookup", got "list"/,
    );
  });

  test('existenceReasoning "lookup": where the asked object sits, copied from the description, or none', () => {
    const looked = samples(400, "lookup", { existenceReasoning: "lookup" })
      .map((s) => s.sample)
      .filter((s) => s.family === "existence");
    expect(looked.length).toBeGreaterThan(100);
    let yes = 0;
    for (const s of looked) {
      const target = /^Is there an? (\w+ \w+)/.exec(s.question)?.[1] as string;
      // the places follow the asked words in the description, in its order
      const places = [...(s.description ?? "").matchAll(/An? \w+ (\w+ \w+) ([\w-]+)\./g)]
        .filter((m) => m[1] === target)
        .map((m) => m[2]);
      expect(s.answer).toBe(places.length > 0 ? "yes" : "no");
      expect(s.reasoning).toBe(`Find ${target}: ${places.join(", ") || "none"}. Answer: ${s.answer}.`);
      if (s.answer === "yes") yes++;
    }
    expect(yes).toBeGreaterThan(looked.length / 4);
    expect(yes).toBeLessThan((3 * looked.length) / 4);
  });

  test("nearMissShare 1: every existence negative the scene allows is a near miss (an absent color of a present shape)", () => {
    const nearMiss = (s: (typeof all)[number]) => {
      const [color, shape] = (/^Is there an? (\w+) (\w+)/.exec(s.question) as RegExpExecArray).slice(1);
      return (
        s.objects.some((o) => o.shape === shape) &&
        !s.objects.some((o) => o.shape === shape && o.color === color)
      );
    };
    const negatives = (config: object) =>
      samples(600, "near", config)
        .map((x) => x.sample)
        .filter((x) => x.family === "existence" && x.answer === "no");
    const usual = negatives({});
    const forced = negatives({ nearMissShare: 1 });
    expect(forced.every(nearMiss)).toBe(true);
    expect(usual.filter(nearMiss).length / usual.length).toBeLessThan(0.7);
    expect(() => resolveWorldConfig({ nearMissShare: 2 })).toThrow(/"nearMissShare" must be in 0–1/);
  });

  test("colorLureShare: existence negatives take their color from the scene, on another shape", () => {
    const lured = (s: (typeof all)[number]) => {
      const [color, shape] = (/^Is there an? (\w+) (\w+)/.exec(s.question) as RegExpExecArray).slice(1);
      return (
        s.objects.some((o) => o.color === color) &&
        !s.objects.some((o) => o.shape === shape && o.color === color)
      );
    };
    const negatives = (config: object) =>
      samples(600, "lure", config)
        .map((x) => x.sample)
        .filter((x) => x.family === "existence" && x.answer === "no");
    const share = (config: object) => {
      const n = negatives(config);
      return n.filter(lured).length / n.length;
    };
    const none = share({});
    expect(share({ colorLureShare: 1 })).toBeGreaterThan(0.75); // the rest: scenes that allow none
    expect(share({ colorLureShare: 0.5 })).toBeGreaterThan(none + 0.15);
    expect(() => resolveWorldConfig({ colorLureShare: -1 })).toThrow(/"colorLureShare" must be in 0–1/);
  });

  test("counting reasoning lists the matching objects, then their number", () => {
    for (const s of of("count")) {
      const n = Number(s.answer);
      const listed = /Matches for [\w ]+: (.*)\. Count: (\d+)\.$/.exec(s.reasoning);
      expect(listed?.[2]).toBe(s.answer);
      expect(listed?.[1] === "none" ? 0 : listed?.[1].split(", ").length).toBe(n);
    }
  });

  test("difficulty is 1 for existence, 2 for count, 3 for arithmetic and spatial questions", () => {
    for (const s of all) {
      if (s.family === "existence") expect(s.difficulty).toBe(1);
      if (s.family === "count") expect(s.difficulty).toBe(2);
      if (s.family === "arithmetic" || s.family === "spatial") expect(s.difficulty).toBe(3);
      expect([1, 2, 3]).toContain(s.difficulty);
    }
  });
});

describe("config", () => {
  test("family proportions follow the config", () => {
    const only = samples(200, "fam", {
      families: { existence: 0, count: 1, arithmetic: 0, attribute: 0, position: 0, spatial: 0, describe: 0 },
    });
    expect(only.every((s) => s.sample.family === "count")).toBe(true);
    const counts = Object.fromEntries(FAMILIES.map((f) => [f, of(f).length]));
    // Defaults 5:2:1:1:1:1:1 of 12; 1500 samples.
    expect(counts.existence / all.length).toBeGreaterThan(0.36);
    expect(counts.existence / all.length).toBeLessThan(0.47);
    for (const f of FAMILIES) expect(counts[f]).toBeGreaterThan(60);
  });

  test("correction dialogues: share follows the config, the first answer is wrong, the last turn is the gold response", () => {
    const withShare = samples(400, "dlg", { correctionShare: 0.5 }).map((s) => s.sample);
    const dialogues = withShare.filter((s) => s.dialogue);
    expect(dialogues.length / withShare.length).toBeGreaterThan(0.35);
    expect(dialogues.length / withShare.length).toBeLessThan(0.55);
    for (const s of dialogues) {
      const m = s.dialogue?.messages ?? [];
      expect(m.map((x) => x.role)).toEqual(["user", "assistant", "user", "assistant"]);
      expect(m[0].content).toBe(s.question);
      expect(parseResponse(m[1].content).answer).not.toBe(s.answer);
      expect(parseResponse(m[1].content).description).not.toBe(s.description);
      expect(m[2].content).toMatch(/re-examine the image/);
      expect(m[3].content).toBe(s.response);
      expect(s.dialogue?.loss).toBe("last");
    }
    expect(samples(100, "dlg", { correctionShare: 0 }).some((s) => s.sample.dialogue)).toBe(false);
  });

  test("scenes hold 1 to 8 objects, one per cell, and themes make partners co-occur", () => {
    const scenes = samples(1500, "themes").map((s) => s.scene);
    let together = 0;
    let redCircles = 0;
    for (const sc of scenes) {
      expect(sc.objects.length).toBeGreaterThanOrEqual(1);
      expect(sc.objects.length).toBeLessThanOrEqual(8);
      expect(new Set(sc.objects.map((o) => o.cell.join())).size).toBe(sc.objects.length);
      const cats = sc.objects.map(category);
      if (cats.includes("red circle")) {
        redCircles++;
        if (cats.includes("yellow circle")) together++;
      }
    }
    // Without themes a given other object shows up in roughly 1 − (47/48)^4 ≈ 8% of scenes.
    expect(together / redCircles).toBeGreaterThan(0.3);
  });

  test("a bad config names its field", async () => {
    expect(() => resolveWorldConfig({ size: 16 })).toThrow(/"size" must be an integer in 32–512/);
    expect(() => resolveWorldConfig({ families: { existence: -1 } })).toThrow(/"families.existence"/);
    expect(() => resolveWorldConfig({ themes: [{ name: "x", weight: 1, core: ["violet blob"] }] })).toThrow(
      /unknown object "violet blob"/,
    );
  });
});

test("a sample does not depend on the order samples are generated in", async () => {
  const { Rng } = await import("@sr2se/core");
  const { generateSample } = await import("../src/index.js");
  const config = resolveWorldConfig();
  const root = new Rng(77);
  const late = generateSample(root, "train", 9, config);
  for (let i = 0; i < 9; i++) generateSample(root, "train", i, config);
  const early = generateSample(new Rng(77), "train", 9, config);
  expect(JSON.stringify(late)).toBe(JSON.stringify(early));
  expect(JSON.stringify(generateSample(root, "val", 9, config))).not.toBe(JSON.stringify(early));
});
