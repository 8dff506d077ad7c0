import { COLORS, type Color, plural, SHAPES, type Shape, SIZES } from "./vocabulary.js";

/**
 * The words that name objects in a text: each canonical object name with its other words (plurals,
 * synonyms), each attribute (colour) with its synonyms, and the words that may stand between an
 * attribute and its object. The shape of `@sr2se/eval`'s `ChairVocabulary`.
 */
export interface MentionVocabulary {
  objects: Readonly<Record<string, readonly string[]>>;
  attributes: Readonly<Record<string, readonly string[]>>;
  fillers: readonly string[];
}

/** Other words a description may use for a shape, besides its plural. */
const SHAPE_SYNONYMS: Partial<Record<Shape, readonly string[]>> = {
  circle: ["disc", "discs", "disk", "disks", "dot", "dots"],
  diamond: ["rhombus", "rhombuses", "rhombi", "lozenge", "lozenges"],
};

/** Other words a description may use for a colour. */
const COLOR_SYNONYMS: Partial<Record<Color, readonly string[]>> = { purple: ["violet"] };

/** Words of size and shade that may stand between a colour and its shape ("red small circle"). */
const FILLERS = ["big", "tiny", "little", "smaller", "larger", "bright", "dark", "light", "solid", "filled"];

/**
 * The shapes world's mention vocabulary, built from its SHAPES, COLORS and SIZES: what hallucination
 * metrics (CHAIR in `@sr2se/eval`, IPR's statistics) count as an object mention.
 */
export const SHAPES_WORLD_VOCABULARY: MentionVocabulary = {
  objects: Object.fromEntries(SHAPES.map((s) => [s, [plural(s), ...(SHAPE_SYNONYMS[s] ?? [])]])),
  attributes: Object.fromEntries(COLORS.map((c) => [c, [...(COLOR_SYNONYMS[c] ?? [])]])),
  fillers: [...SIZES, ...FILLERS],
};
