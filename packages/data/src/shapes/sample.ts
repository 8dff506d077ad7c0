import { formatResponse, type Message, type Rng, type Sample } from "@sr2se/core";
import { FAMILIES, type Family, type WorldConfig } from "./config.js";
import { describeScene } from "./describe.js";
import { makeQuestion, type Question } from "./questions.js";
import { type Scene, type ShapeObject, sampleScene } from "./scene.js";
import { ALL_CATEGORIES, ALL_CELLS, COLORS, category, SHAPES, SIZES } from "./vocabulary.js";

/** A correction dialogue for SFT: the loss goes on the last assistant turn only. */
export interface CorrectionDialogue {
  messages: Message[];
  loss: "last";
}

/** A shapes-world sample: a `Sample` (`SampleSchema` of @sr2se/core) with the scene's theme and an optional dialogue. */
export type ShapesSample = Sample & {
  family: Family;
  difficulty: number;
  description: string;
  reasoning: string;
  response: string;
  objects: ShapeObject[];
  theme: string;
  dialogue?: CorrectionDialogue;
};

/** The question family a sample gets, by the config's proportions. */
function pickFamily(rng: Rng, config: WorldConfig): Family {
  return FAMILIES[rng.weighted(FAMILIES.map((f) => config.families[f] ?? 0))];
}

/** A question for the scene: families the scene cannot support are redrawn. */
export function pickQuestion(rng: Rng, scene: Scene, config: WorldConfig): Question {
  for (let tries = 0; tries < 16; tries++) {
    const q = makeQuestion(rng, pickFamily(rng, config), scene, config);
    if (q) return q;
  }
  const fallback = makeQuestion(rng, "describe", scene, config);
  if (!fallback) throw new Error("shapes world: no question fits the scene");
  return fallback;
}

/** Objects in reading order (row-major by cell), as descriptions list them. */
function readingOrder(objects: ShapeObject[]): ShapeObject[] {
  return objects.sort((a, b) => a.cell[0] * 3 + a.cell[1] - (b.cell[0] * 3 + b.cell[1]));
}

/**
 * A plausible wrong perception of the scene: one object added (often the theme's usual partner or
 * the `lure` the question asks about), dropped, recoloured, reshaped, resized or moved to another cell.
 */
export function corruptObjects(rng: Rng, scene: Scene, config: WorldConfig, lure?: string): ShapeObject[] {
  const objects = scene.objects.map((o) => ({ ...o, cell: [o.cell[0], o.cell[1]] as [number, number] }));
  const free = ALL_CELLS.filter((c) => !objects.some((o) => o.cell[0] === c[0] && o.cell[1] === c[1]));
  const kind = rng.int(0, 6);
  if (kind === 0 && free.length > 0) {
    const theme = config.themes.find((t) => t.name === scene.theme);
    const present = new Set(objects.map(category));
    const partners = (theme?.core ?? []).filter((c) => !present.has(c));
    const cat =
      lure && !present.has(lure) && rng.bool(0.8)
        ? lure
        : partners.length > 0 && rng.bool(0.7)
          ? rng.choice(partners)
          : rng.choice(ALL_CATEGORIES);
    const [color, shape] = cat.split(" ") as [ShapeObject["color"], ShapeObject["shape"]];
    const c = rng.choice(free);
    const size = rng.choice(SIZES);
    objects.push({ shape, color, size, cell: [c[0], c[1]], center: [(c[1] + 0.5) / 3, (c[0] + 0.5) / 3] });
    return readingOrder(objects);
  }
  const lured = objects.map((o, k) => (category(o) === lure ? k : -1)).filter((k) => k >= 0);
  const i = lured.length > 0 && rng.bool(0.8) ? rng.choice(lured) : rng.int(0, objects.length);
  const o = objects[i];
  if (kind === 1 && objects.length > 1) objects.splice(i, 1);
  else if (kind === 4 && free.length > 0) {
    const c = rng.choice(free);
    o.cell = [c[0], c[1]];
    o.center = [(c[1] + 0.5) / 3, (c[0] + 0.5) / 3];
  } else if (kind === 5) o.size = o.size === "small" ? "large" : "small";
  else if (kind === 3) o.shape = rng.choice(SHAPES.filter((s) => s !== o.shape));
  else o.color = rng.choice(COLORS.filter((c) => c !== o.color));
  return readingOrder(objects);
}

/** The gold response in the response format of @sr2se/core (`formatResponse`): description, reasoning, boxed answer. */
export function goldResponse(description: string, reasoning: string, answer: string): string {
  return formatResponse({ description, think: reasoning, answer });
}

/**
 * Builds sample `index` of `split` from its own forked stream, so a sample does not depend on the
 * order in which samples are generated (workers and resumed runs give the same bytes).
 */
export function generateSample(
  root: Rng,
  split: string,
  index: number,
  config: WorldConfig,
): { sample: ShapesSample; scene: Scene } {
  const rng = root.fork(`${split}/${index}`);
  const scene = sampleScene(rng.fork("scene"), config);
  const qrng = rng.fork("question");
  const q = pickQuestion(qrng, scene, config);
  const gold = q.solve(scene.objects);
  if (!gold) throw new Error(`shapes world: question "${q.text}" has no answer for its own scene`);
  const description = describeScene(scene.objects);
  const id = `${split}-${String(index).padStart(6, "0")}`;
  const sample: ShapesSample = {
    id,
    image: `images/${id}.png`,
    question: q.text,
    answer: gold.answer,
    answer_type: q.answerType,
    choices: q.choices,
    family: q.family,
    difficulty: q.difficulty,
    description,
    reasoning: gold.reasoning,
    response: goldResponse(description, gold.reasoning, gold.answer),
    objects: scene.objects,
    theme: scene.theme,
  };
  const drng = rng.fork("dialogue");
  if (config.correctionShare > 0 && drng.bool(config.correctionShare)) {
    const dialogue = correctionDialogue(drng, scene, q, gold.answer, sample.response, config);
    if (dialogue) sample.dialogue = dialogue;
  }
  return { sample, scene };
}

/** question → hallucinated response → refinement turn → gold response; null if no corruption changes the answer. */
export function correctionDialogue(
  rng: Rng,
  scene: Scene,
  q: Question,
  goldAnswer: string,
  goldText: string,
  config: WorldConfig,
): CorrectionDialogue | null {
  for (let tries = 0; tries < 32; tries++) {
    const wrong = corruptObjects(rng, scene, config, q.lure);
    const sol = q.solve(wrong);
    if (!sol || sol.answer === goldAnswer) continue;
    return {
      messages: [
        { role: "user", content: q.text },
        { role: "assistant", content: goldResponse(describeScene(wrong), sol.reasoning, sol.answer) },
        { role: "user", content: config.refinementPrompt },
        { role: "assistant", content: goldText },
      ],
      loss: "last",
    };
  }
  return null;
}
