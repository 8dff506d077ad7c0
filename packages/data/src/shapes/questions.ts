import type { AnswerType, Rng } from "@sr2se/core";
import type { Family, WorldConfig } from "./config.js";
import { article, placedName } from "./describe.js";
import type { Scene, ShapeObject } from "./scene.js";
import { ALL_CATEGORIES, ALL_CELLS, COLORS, category, cellName, plural, SHAPES } from "./vocabulary.js";

/** What a question's gold answer and reasoning are, for a given list of objects. */
export interface Solution {
  answer: string;
  reasoning: string;
}

/**
 * A question about a scene. `solve` derives the answer from an object list only, so the same
 * question can be answered over a corrupted list (a hallucinated description) for correction
 * dialogues; it returns null when the question makes no sense for that list.
 */
export interface Question {
  family: Family;
  /** The question as the model sees it (options listed under it for multiple choice). */
  text: string;
  /** The question without its options. */
  stem: string;
  answerType: AnswerType;
  choices: string[] | null;
  difficulty: number;
  /** The object ("red circle") whose presence decides the answer, for building hallucinations. */
  lure?: string;
  solve(objects: readonly ShapeObject[]): Solution | null;
}

export const LETTERS = ["A", "B", "C", "D", "E", "F", "G", "H", "I"] as const;

/** A predicate over objects and how the reasoning names it ("circles", "red objects"). */
interface Group {
  noun: string;
  match: (o: ShapeObject) => boolean;
}

function shapeGroup(shape: string): Group {
  return { noun: plural(shape), match: (o) => o.shape === shape };
}
function colorGroup(color: string): Group {
  return { noun: `${color} objects`, match: (o) => o.color === color };
}
function categoryGroup(cat: string): Group {
  const [color, shape] = cat.split(" ");
  return { noun: `${color} ${plural(shape)}`, match: (o) => o.color === color && o.shape === shape };
}

/** Categories present, in reading order, without repeats. */
export function listedCategories(objects: readonly ShapeObject[]): string[] {
  return [...new Set(objects.map(category))];
}

function countLine(g: Group, objects: readonly ShapeObject[]): { n: number; text: string } {
  const matches = objects.filter(g.match).map(placedName);
  return {
    n: matches.length,
    text: `Matches for ${g.noun}: ${matches.length ? matches.join(", ") : "none"}.`,
  };
}

function options(text: string, choices: readonly string[]): string {
  return `${text}\n${choices.map((c, i) => `(${LETTERS[i]}) ${c}`).join("\n")}`;
}

/** Is there an X? POPE-style yes/no; negatives are often the theme's usual partner. */
export function existenceQuestion(rng: Rng, scene: Scene, config: WorldConfig): Question {
  const present = listedCategories(scene.objects);
  const absent = ALL_CATEGORIES.filter((c) => !present.includes(c));
  let target: string;
  const shapes = new Set<string>(scene.objects.map((o) => o.shape));
  const colors = new Set<string>(scene.objects.map((o) => o.color));
  const nearMisses = absent.filter((c) => shapes.has(c.split(" ")[1] as string));
  // a color lure: the negative's color is in the scene, on another shape (the case a model that
  // checks the color and the shape separately, not bound together, gets wrong)
  const lure = (): boolean => config.colorLureShare > 0 && rng.bool(config.colorLureShare);
  const pick = (pool: string[], lured: boolean): string => {
    const withColor = lured ? pool.filter((c) => colors.has(c.split(" ")[0] as string)) : [];
    return rng.choice(withColor.length > 0 ? withColor : pool);
  };
  if (rng.bool(0.5) || absent.length === 0) target = rng.choice(present);
  else if (config.nearMissShare > 0 && nearMisses.length > 0 && rng.bool(config.nearMissShare))
    target = pick(nearMisses, lure());
  else {
    const lured = lure();
    const theme = config.themes.find((t) => t.name === scene.theme);
    const partners = (theme?.core ?? []).filter((c) => absent.includes(c));
    target = partners.length > 0 && rng.bool(0.5) ? pick(partners, lured) : pick(absent, lured);
  }
  return {
    family: "existence",
    text: `Is there ${article(target)} ${target} in the image?`,
    stem: `Is there ${article(target)} ${target} in the image?`,
    answerType: "yes_no",
    choices: null,
    difficulty: 1,
    lure: target,
    // The check in two short steps a small model can learn: list the objects of the asked shape
    // (the count family's step, so the two families train one skill), then name the asked color
    // and say whether it is among those few (the verdict right after the color it checks).
    solve(objects) {
      const [color, shape] = target.split(" ");
      const found = listedCategories(objects).includes(target);
      if (config.existenceReasoning === "lookup") {
        // one lookup: where the described "<color> <shape>" sits, copied from the description
        const at = objects.filter((o) => category(o) === target).map((o) => cellName(o.cell));
        return {
          answer: found ? "yes" : "no",
          reasoning: `Find ${target}: ${at.length ? at.join(", ") : "none"}. Answer: ${found ? "yes" : "no"}.`,
        };
      }
      if (config.existenceReasoning === "scan") {
        const marks = objects.map((o) => `${category(o)} ${category(o) === target ? "yes" : "no"}`);
        return {
          answer: found ? "yes" : "no",
          reasoning: `Check each object for ${target}: ${marks.length ? marks.join(", ") : "none"}. Answer: ${found ? "yes" : "no"}.`,
        };
      }
      return {
        answer: found ? "yes" : "no",
        reasoning: `${config.existenceReasoning === "find" ? `Find ${target}. ` : ""}${countLine(shapeGroup(shape), objects).text} Any ${color}: ${found ? "yes" : "no"}. Answer: ${found ? "yes" : "no"}.`,
      };
    },
  };
}

function randomGroup(rng: Rng, objects: readonly ShapeObject[], kind: "shape" | "color" | "category"): Group {
  const fromScene = objects.length > 0 && rng.bool(0.85);
  const o = fromScene ? rng.choice(objects) : null;
  if (kind === "shape") return shapeGroup(o ? o.shape : rng.choice(SHAPES));
  if (kind === "color") return colorGroup(o ? o.color : rng.choice(COLORS));
  return categoryGroup(o ? category(o) : rng.choice(ALL_CATEGORIES));
}

/** How many X are there? The reasoning lists the matching objects, then their number. */
export function countQuestion(rng: Rng, scene: Scene): Question {
  const kind = (["shape", "shape", "color", "category"] as const)[rng.int(0, 4)];
  const g = randomGroup(rng, scene.objects, kind);
  return {
    family: "count",
    text: `How many ${g.noun} are there?`,
    stem: `How many ${g.noun} are there?`,
    answerType: "integer",
    choices: null,
    difficulty: 2,
    solve(objects) {
      const c = countLine(g, objects);
      return { answer: String(c.n), reasoning: `${c.text} Count: ${c.n}.` };
    },
  };
}

/** Sums, differences and comparisons of two counts (MathVista style). */
export function arithmeticQuestion(rng: Rng, scene: Scene): Question {
  const kind = rng.bool(0.6) ? "shape" : "color";
  const a = randomGroup(rng, scene.objects, kind);
  let b = randomGroup(rng, scene.objects, kind);
  for (let tries = 0; b.noun === a.noun && tries < 20; tries++) b = randomGroup(rng, scene.objects, kind);
  if (b.noun === a.noun)
    b =
      kind === "shape"
        ? shapeGroup(SHAPES.find((s) => plural(s) !== a.noun) ?? "square")
        : colorGroup(COLORS.find((c) => `${c} objects` !== a.noun) ?? "red");
  const op = (["sum", "difference", "comparison"] as const)[rng.int(0, 3)];
  if (op === "comparison") {
    const choices = [a.noun, b.noun, "equal"];
    return {
      family: "arithmetic",
      text: options(`Which are more numerous: ${a.noun} or ${b.noun}?`, choices),
      stem: `Which are more numerous: ${a.noun} or ${b.noun}?`,
      answerType: "choice",
      choices,
      difficulty: 3,
      solve(objects) {
        const ca = countLine(a, objects);
        const cb = countLine(b, objects);
        const pick = ca.n > cb.n ? 0 : ca.n < cb.n ? 1 : 2;
        const sign = pick === 0 ? ">" : pick === 1 ? "<" : "=";
        return {
          answer: LETTERS[pick],
          reasoning: `${ca.text} ${cb.text} ${ca.n} ${sign} ${cb.n}, so ${choices[pick]}. Answer: ${LETTERS[pick]}.`,
        };
      },
    };
  }
  if (op === "sum") {
    return {
      family: "arithmetic",
      text: `How many ${a.noun} and ${b.noun} are there in total?`,
      stem: `How many ${a.noun} and ${b.noun} are there in total?`,
      answerType: "integer",
      choices: null,
      difficulty: 3,
      solve(objects) {
        const ca = countLine(a, objects);
        const cb = countLine(b, objects);
        return {
          answer: String(ca.n + cb.n),
          reasoning: `${ca.text} ${cb.text} ${ca.n} + ${cb.n} = ${ca.n + cb.n}.`,
        };
      },
    };
  }
  // Difference: ask "how many more" of the larger group, so the answer is a count (≥ 0).
  const na = scene.objects.filter(a.match).length;
  const nb = scene.objects.filter(b.match).length;
  const [big, small] = na >= nb ? [a, b] : [b, a];
  return {
    family: "arithmetic",
    text: `How many more ${big.noun} than ${small.noun} are there?`,
    stem: `How many more ${big.noun} than ${small.noun} are there?`,
    answerType: "integer",
    choices: null,
    difficulty: 3,
    solve(objects) {
      const cb = countLine(big, objects);
      const cs = countLine(small, objects);
      return {
        answer: String(cb.n - cs.n),
        reasoning: `${cb.text} ${cs.text} ${cb.n} - ${cs.n} = ${cb.n - cs.n}.`,
      };
    },
  };
}

/** Four options holding `correct` and three others of `pool`, shuffled. */
function optionSet(rng: Rng, correct: string, pool: readonly string[], k = 4): string[] {
  const others = rng.sample(
    pool.filter((p) => p !== correct),
    Math.min(k - 1, pool.length - 1),
  );
  return rng.shuffle([correct, ...others]);
}

function objectAt(objects: readonly ShapeObject[], cell: readonly [number, number]): ShapeObject | undefined {
  return objects.find((o) => o.cell[0] === cell[0] && o.cell[1] === cell[1]);
}

/** What colour / shape / size is the object at a place? Multiple choice with lettered options. */
export function attributeQuestion(rng: Rng, scene: Scene): Question {
  const target = rng.choice(scene.objects);
  const where = cellName(target.cell);
  const attr = (["color", "color", "shape", "shape", "size"] as const)[rng.int(0, 5)];
  const pool: readonly string[] = attr === "color" ? COLORS : attr === "shape" ? SHAPES : ["small", "large"];
  const choices = optionSet(rng, target[attr], pool, attr === "size" ? 2 : 4);
  return {
    family: "attribute",
    text: options(`What ${attr} is the object at ${where}?`, choices),
    stem: `What ${attr} is the object at ${where}?`,
    answerType: "choice",
    choices,
    difficulty: scene.objects.length <= 2 ? 1 : 2,
    lure: category(target),
    solve(objects) {
      const o = objectAt(objects, target.cell);
      if (!o) return null;
      const at = choices.indexOf(o[attr]);
      if (at < 0) return null;
      return {
        answer: LETTERS[at],
        reasoning: `Object at ${where}: ${o.size} ${o.color} ${o.shape}. Its ${attr} is ${o[attr]}. Answer: ${LETTERS[at]}.`,
      };
    },
  };
}

/** Objects whose category appears once in the scene, so "the red circle" names one of them. */
function uniqueObjects(objects: readonly ShapeObject[]): ShapeObject[] {
  return objects.filter((o) => objects.filter((p) => category(p) === category(o)).length === 1);
}

/** Where is the X? Multiple choice over grid places. Null when no object is unique in the scene. */
export function positionQuestion(rng: Rng, scene: Scene): Question | null {
  const unique = uniqueObjects(scene.objects);
  if (unique.length === 0) return null;
  const target = rng.choice(unique);
  const name = category(target);
  const choices = optionSet(
    rng,
    cellName(target.cell),
    ALL_CELLS.map((c) => cellName(c)),
  );
  return {
    family: "position",
    text: options(`Where is the ${name}?`, choices),
    stem: `Where is the ${name}?`,
    answerType: "choice",
    choices,
    difficulty: scene.objects.length <= 2 ? 1 : 2,
    lure: name,
    solve(objects) {
      const hits = objects.filter((o) => category(o) === name);
      if (hits.length !== 1) return null;
      const at = choices.indexOf(cellName(hits[0].cell));
      if (at < 0) return null;
      return {
        answer: LETTERS[at],
        reasoning: `Find ${name}. Listed: ${objects.map(placedName).join(", ")}. The ${name} is ${cellName(hits[0].cell)}. Answer: ${LETTERS[at]}.`,
      };
    },
  };
}

const RELATIONS = [
  { words: "to the left of", axis: 1, sign: -1 },
  { words: "to the right of", axis: 1, sign: 1 },
  { words: "above", axis: 0, sign: -1 },
  { words: "below", axis: 0, sign: 1 },
] as const;

/** Is the X left of / right of / above / below the Y? Yes/no over grid rows and columns. */
export function spatialQuestion(rng: Rng, scene: Scene): Question | null {
  const unique = uniqueObjects(scene.objects);
  if (unique.length < 2) return null;
  const [x, y] = rng.sample(unique, 2);
  const rel = rng.choice(RELATIONS);
  const nx = category(x);
  const ny = category(y);
  const axisName = rel.axis === 0 ? "row" : "column";
  return {
    family: "spatial",
    text: `Is the ${nx} ${rel.words} the ${ny}?`,
    stem: `Is the ${nx} ${rel.words} the ${ny}?`,
    answerType: "yes_no",
    choices: null,
    difficulty: 3,
    lure: rng.bool() ? nx : ny,
    solve(objects) {
      const ox = objects.filter((o) => category(o) === nx);
      const oy = objects.filter((o) => category(o) === ny);
      if (ox.length !== 1 || oy.length !== 1) return null;
      const a = ox[0].cell[rel.axis] + 1;
      const b = oy[0].cell[rel.axis] + 1;
      const holds = rel.sign < 0 ? a < b : a > b;
      const cmp = a < b ? "<" : a > b ? ">" : "=";
      return {
        answer: holds ? "yes" : "no",
        reasoning: `The ${nx} is ${cellName(ox[0].cell)}, ${axisName} ${a}. The ${ny} is ${cellName(oy[0].cell)}, ${axisName} ${b}. ${a} ${cmp} ${b}, so ${holds ? "yes" : "no"}.`,
      };
    },
  };
}

/** Describe the image: the answer names every object (scored by which objects it mentions). */
export function describeQuestion(scene: Scene): Question {
  return {
    family: "describe",
    text: "Describe the image.",
    stem: "Describe the image.",
    answerType: "text",
    choices: null,
    difficulty: scene.objects.length <= 3 ? 1 : 2,
    solve(objects) {
      if (objects.length === 0) return null;
      const names = objects.map(category);
      return { answer: names.join(", "), reasoning: `Listed objects: ${objects.length}. Name each one.` };
    },
  };
}

/** A question of `family` about `scene`, or null when the scene cannot support it. */
export function makeQuestion(rng: Rng, family: Family, scene: Scene, config: WorldConfig): Question | null {
  switch (family) {
    case "existence":
      return existenceQuestion(rng, scene, config);
    case "count":
      return countQuestion(rng, scene);
    case "arithmetic":
      return arithmeticQuestion(rng, scene);
    case "attribute":
      return attributeQuestion(rng, scene);
    case "position":
      return positionQuestion(rng, scene);
    case "spatial":
      return spatialQuestion(rng, scene);
    case "describe":
      return describeQuestion(scene);
  }
}
