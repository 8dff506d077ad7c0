import type { SceneObject } from "@sr2se/core";

/** The words a mention is made of: colours and shapes (singular; plurals are matched too). */
export interface MentionVocabulary {
  colors: readonly string[];
  shapes: readonly string[];
}

/** Colours and shapes of the synthetic shapes world, with their common synonyms. */
export const SHAPES_VOCABULARY: MentionVocabulary = {
  colors: [
    "red",
    "green",
    "blue",
    "yellow",
    "purple",
    "orange",
    "black",
    "white",
    "gray",
    "grey",
    "pink",
    "brown",
    "cyan",
    "magenta",
  ],
  shapes: [
    "circle",
    "square",
    "triangle",
    "rectangle",
    "star",
    "hexagon",
    "pentagon",
    "diamond",
    "ellipse",
    "oval",
    "cross",
    "heart",
  ],
};

/** An object a text mentions: a shape, with the colour said right before it when there is one. */
export interface Mention {
  shape: string;
  color?: string;
}

/** Counts of one response: distinct objects mentioned, and those of them that the image does not hold. */
export interface HallucinationCount {
  mentioned: number;
  hallucinated: number;
}

const NEGATIONS = new Set(["no", "not", "without", "neither", "nor", "none"]);
const SYNONYMS: Record<string, string> = { grey: "gray", oval: "ellipse" };

/** Returns a function that lists the distinct objects a text mentions, skipping negated ones ("no triangle"). */
export function createMentionExtractor(
  vocabulary: MentionVocabulary = SHAPES_VOCABULARY,
): (text: string) => Mention[] {
  const colors = new Set(vocabulary.colors.map((c) => c.toLowerCase()));
  const shapes = new Map<string, string>();
  for (const s of vocabulary.shapes) {
    const lower = s.toLowerCase();
    shapes.set(lower, lower);
    shapes.set(`${lower}s`, lower);
    shapes.set(`${lower}es`, lower);
  }
  return (text) => {
    const words = text.toLowerCase().match(/[a-z]+/g) ?? [];
    const seen = new Map<string, Mention>();
    for (let i = 0; i < words.length; i++) {
      const shape = shapes.get(words[i]);
      if (shape === undefined) continue;
      let color: string | undefined;
      let negated = false;
      // look back over a short noun phrase: "no small red circle", "a big blue square"
      for (let j = i - 1; j >= Math.max(0, i - 4); j--) {
        const w = words[j];
        if (NEGATIONS.has(w)) {
          negated = true;
          break;
        }
        if (color === undefined && colors.has(w)) color = w;
        if (shapes.has(w) || w === "and" || w === "or" || w === "of") break;
      }
      if (negated) continue;
      const m: Mention =
        color === undefined ? { shape: canon(shape) } : { shape: canon(shape), color: canon(color) };
      const key = `${m.color ?? "*"}/${m.shape}`;
      if (!seen.has(key)) seen.set(key, m);
    }
    // a bare "circle" adds nothing when a coloured circle is mentioned too
    const out: Mention[] = [];
    for (const m of seen.values()) {
      if (
        m.color === undefined &&
        [...seen.values()].some((o) => o.color !== undefined && o.shape === m.shape)
      )
        continue;
      out.push(m);
    }
    return out;
  };
}

function canon(word: string): string {
  return SYNONYMS[word] ?? word;
}

/** Returns how many distinct objects `text` mentions and how many of them are not among `objects` (CHAIR_i's counts). */
export function countHallucinations(
  text: string,
  objects: readonly Pick<SceneObject, "shape" | "color">[],
  extract: (text: string) => Mention[] = defaultExtractor,
): HallucinationCount {
  const present = objects.map((o) => ({
    shape: canon(o.shape.toLowerCase()),
    color: canon(o.color.toLowerCase()),
  }));
  let hallucinated = 0;
  const mentions = extract(text);
  for (const m of mentions) {
    const found = present.some((o) => o.shape === m.shape && (m.color === undefined || o.color === m.color));
    if (!found) hallucinated++;
  }
  return { mentioned: mentions.length, hallucinated };
}

const defaultExtractor = createMentionExtractor();
