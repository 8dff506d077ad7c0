import type { JudgeReply, JudgeRequest, MmVetJudge } from "./judge.js";
import type { MmVetSample } from "./types.js";

// A rule-based stand-in for MM-Vet's GPT-4 grader on the shapes world, whose answers name objects
// ("red circle <AND> blue star") or counts ("3 <OR> three"). NOT the official grader: its scores
// are comparable between runs of this project, not with published MM-Vet numbers.

const NUMBER_WORDS = [
  "zero",
  "one",
  "two",
  "three",
  "four",
  "five",
  "six",
  "seven",
  "eight",
  "nine",
  "ten",
  "eleven",
  "twelve",
];
const SHAPE_WORDS: Record<string, string> = {
  circle: "circle",
  circles: "circle",
  square: "square",
  squares: "square",
  triangle: "triangle",
  triangles: "triangle",
  diamond: "diamond",
  diamonds: "diamond",
  rhombus: "diamond",
  star: "star",
  stars: "star",
  hexagon: "hexagon",
  hexagons: "hexagon",
};
const COLOR_WORDS: Record<string, string> = {
  red: "red",
  green: "green",
  blue: "blue",
  yellow: "yellow",
  purple: "purple",
  violet: "purple",
  orange: "orange",
  pink: "pink",
  brown: "brown",
  gray: "gray",
  grey: "gray",
  black: "black",
  white: "white",
};

/** Lower-case word tokens with plurals, synonyms and number words mapped to one canonical form. */
export function canonicalTokens(text: string): string[] {
  return (text.toLowerCase().match(/[a-z]+|\d+/g) ?? []).map((w) => {
    const n = NUMBER_WORDS.indexOf(w);
    if (n >= 0) return String(n);
    return SHAPE_WORDS[w] ?? COLOR_WORDS[w] ?? w;
  });
}

function containsRun(haystack: readonly string[], needle: readonly string[]): boolean {
  if (needle.length === 0) return false;
  for (let i = 0; i + needle.length <= haystack.length; i++) {
    if (needle.every((t, j) => haystack[i + j] === t)) return true;
  }
  return false;
}

/** Colour-shape pairs ("red circle") a text mentions, adjacent words only. */
export function mentionedObjects(tokens: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < tokens.length; i++) {
    const c = tokens[i] as string;
    const s = tokens[i + 1] as string;
    if (Object.values(COLOR_WORDS).includes(c) && Object.values(SHAPE_WORDS).includes(s))
      out.push(`${c} ${s}`);
  }
  return out;
}

/**
 * The deterministic shapes-world score of a prediction, in tenths: the best `<OR>` alternative's
 * share of `<AND>` elements found in the prediction, less 0.1 for each colour-shape object it names
 * that is not in the scene (the sample's `objects`, or, for a question whose answer lists every
 * object, that list).
 */
export function shapesScore(
  sample: Pick<MmVetSample, "answer" | "objects" | "capability">,
  prediction: string,
): number {
  const predicted = canonicalTokens(prediction);
  let coverage = 0;
  for (const alternative of sample.answer.split("<OR>")) {
    const elements = alternative
      .split("<AND>")
      .map((e) => canonicalTokens(e))
      .filter((e) => e.length > 0);
    if (elements.length === 0) continue;
    const found = elements.filter((e) => containsRun(predicted, e)).length;
    coverage = Math.max(coverage, found / elements.length);
  }
  let scene: Set<string> | null = null;
  if (sample.objects && sample.objects.length > 0) {
    scene = new Set(sample.objects.map((o) => canonicalTokens(`${o.color} ${o.shape}`).join(" ")));
  } else if (!sample.answer.includes("<OR>")) {
    const listed = sample.answer.split("<AND>").map((e) => canonicalTokens(e).join(" "));
    if (listed.length > 1 && listed.every((e) => mentionedObjects(e.split(" ")).length === 1))
      scene = new Set(listed);
  }
  const hallucinated = scene
    ? new Set(mentionedObjects(predicted).filter((m) => !(scene as Set<string>).has(m))).size
    : 0;
  const score = Math.round(Math.min(1, Math.max(0, coverage - 0.1 * hallucinated)) * 10) / 10;
  return score;
}

type SceneObjects = NonNullable<MmVetSample["objects"]>;

/**
 * Deterministic MM-Vet judge for the shapes world (NOT official): replies with shapesScore as "0.5".
 * `scenes` (the records of the data package's scenes.jsonl) gives each image's objects to samples
 * that do not carry their own.
 */
export class ShapesWorldJudge implements MmVetJudge {
  readonly model = "sr2se-shapes-judge-v1";
  readonly official = false;
  private readonly scenes = new Map<string, SceneObjects>();

  constructor(options: { scenes?: Iterable<{ image?: unknown; objects?: unknown }> } = {}) {
    for (const scene of options.scenes ?? []) {
      if (typeof scene.image === "string" && Array.isArray(scene.objects)) {
        this.scenes.set(scene.image, scene.objects as SceneObjects);
      }
    }
  }

  async judge(request: JudgeRequest): Promise<JudgeReply> {
    const { sample } = request;
    const image = typeof sample.image === "string" ? sample.image : sample.imagename;
    const objects = sample.objects ?? (image === undefined ? undefined : this.scenes.get(image));
    return { content: shapesScore({ ...sample, objects }, request.prediction).toFixed(1), model: this.model };
  }
}
