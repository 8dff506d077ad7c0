import { DEFAULT_THEMES, type Theme } from "./themes.js";
import { ALL_CATEGORIES } from "./vocabulary.js";

/** The question families of the shapes world. */
export const FAMILIES = [
  "existence",
  "count",
  "arithmetic",
  "attribute",
  "position",
  "spatial",
  "describe",
] as const;
export type Family = (typeof FAMILIES)[number];

/** Clutter that keeps perception from being trivial. */
export interface ClutterConfig {
  /** Amplitude of uniform per-pixel noise, in 0–255 levels (0: none). */
  noise: number;
  /** Largest per-channel offset of the background from its base grey, in 0–255 levels. */
  tint: number;
  /** Largest offset of an object from its cell centre, as a fraction of the cell. */
  jitter: number;
}

/** Everything that decides what the shapes world generates. Saved in manifest.json. */
export interface WorldConfig {
  /** Image side in pixels (32–512). */
  size: number;
  minObjects: number;
  maxObjects: number;
  themes: Theme[];
  /** Probability that each core object of the scene's theme is present. */
  coreProbability: number;
  clutter: ClutterConfig;
  /** Relative share of each question family. */
  families: Record<Family, number>;
  /** Share of samples that also carry a correction dialogue (0–1). */
  correctionShare: number;
  /** The refinement turn of a correction dialogue (the IPR engine's prompt). */
  refinementPrompt: string;
  /**
   * How an existence question's reasoning checks the description. "find" (the default) names the
   * asked object, lists the objects of its shape, then says whether the asked color is among them
   * ("Find green triangle. Matches for triangles: yellow triangle top-left. Any green: no.");
   * "matches" is the same without the first sentence, so that the only mention of the asked color
   * near the list is the check's own; "scan" goes through every described object in order and marks
   * each one that is the asked object; "lookup" names where the asked object sits in the description,
   * or none ("Find green triangle: top-left. Answer: yes."): one copy of what follows the asked words
   * in the description, the decision in its first token.
   */
  existenceReasoning: "find" | "matches" | "scan" | "lookup";
  /**
   * Share of existence negatives drawn as near misses where the scene allows one: an absent color of
   * a shape that is present ("a green triangle" beside yellow ones), the case a model that checks
   * only the shape gets wrong. 0 (the default) keeps the usual draw (about half are near misses).
   */
  nearMissShare: number;
  /**
   * Share of existence negatives whose asked color is drawn from the scene's colors where the scene
   * allows it (a "red circle" beside a red square): the negative then tests that color and shape are
   * bound to one object, not checked apart. 0 (the default) leaves the color to the usual draw.
   */
  colorLureShare: number;
}

/** The default world: 48×48 images, small enough for the default VLM to train in minutes on a CPU. */
export const DEFAULT_WORLD_CONFIG: WorldConfig = {
  size: 48,
  minObjects: 1,
  maxObjects: 8,
  themes: DEFAULT_THEMES.map((t) => ({ ...t, core: [...t.core] })),
  coreProbability: 0.8,
  clutter: { noise: 6, tint: 16, jitter: 0.06 },
  families: { existence: 5, count: 2, arithmetic: 1, attribute: 1, position: 1, spatial: 1, describe: 1 },
  correctionShare: 0.1,
  refinementPrompt: "Your description is inaccurate, please re-examine the image and answer again.",
  existenceReasoning: "find",
  nearMissShare: 0,
  colorLureShare: 0,
};

/** A deep partial of WorldConfig, as users write it. */
export type WorldConfigInput = Partial<Omit<WorldConfig, "clutter" | "families">> & {
  clutter?: Partial<ClutterConfig>;
  families?: Partial<Record<Family, number>>;
};

/** The full config: the defaults overlaid with `input`, validated (throws a RangeError naming the field). */
export function resolveWorldConfig(input: WorldConfigInput = {}): WorldConfig {
  const c: WorldConfig = {
    ...DEFAULT_WORLD_CONFIG,
    ...input,
    themes: (input.themes ?? DEFAULT_WORLD_CONFIG.themes).map((t) => ({ ...t, core: [...t.core] })),
    clutter: { ...DEFAULT_WORLD_CONFIG.clutter, ...input.clutter },
    families: { ...DEFAULT_WORLD_CONFIG.families, ...input.families },
  };
  const fail = (field: string, why: string): never => {
    throw new RangeError(`world config: "${field}" ${why}`);
  };
  if (!Number.isInteger(c.size) || c.size < 32 || c.size > 512)
    fail("size", `must be an integer in 32–512, got ${c.size}`);
  if (!Number.isInteger(c.minObjects) || c.minObjects < 1) fail("minObjects", "must be an integer ≥ 1");
  if (!Number.isInteger(c.maxObjects) || c.maxObjects > 8 || c.maxObjects < c.minObjects)
    fail("maxObjects", `must be an integer in ${c.minObjects}–8`);
  if (!(c.coreProbability >= 0 && c.coreProbability <= 1)) fail("coreProbability", "must be in 0–1");
  if (!(c.correctionShare >= 0 && c.correctionShare <= 1)) fail("correctionShare", "must be in 0–1");
  if (!(c.clutter.noise >= 0 && c.clutter.noise <= 64)) fail("clutter.noise", "must be in 0–64");
  if (!(c.clutter.tint >= 0 && c.clutter.tint <= 64)) fail("clutter.tint", "must be in 0–64");
  if (!(c.clutter.jitter >= 0 && c.clutter.jitter <= 0.1)) fail("clutter.jitter", "must be in 0–0.1");
  if (!["find", "matches", "scan", "lookup"].includes(c.existenceReasoning))
    fail(
      "existenceReasoning",
      `must be "find", "matches", "scan" or "lookup", got ${JSON.stringify(c.existenceReasoning)}`,
    );
  if (!(c.nearMissShare >= 0 && c.nearMissShare <= 1)) fail("nearMissShare", "must be in 0–1");
  if (!(c.colorLureShare >= 0 && c.colorLureShare <= 1)) fail("colorLureShare", "must be in 0–1");
  if (c.themes.length === 0) fail("themes", "must hold at least one theme");
  for (const t of c.themes) {
    if (!(t.weight >= 0)) fail(`themes.${t.name}.weight`, "must be ≥ 0");
    for (const o of t.core)
      if (!ALL_CATEGORIES.includes(o)) fail(`themes.${t.name}.core`, `names unknown object "${o}"`);
    if (t.core.length > c.maxObjects) fail(`themes.${t.name}.core`, `holds more objects than maxObjects`);
  }
  let total = 0;
  for (const [family, w] of Object.entries(c.families)) {
    if (!(FAMILIES as readonly string[]).includes(family))
      fail(`families.${family}`, "is not a question family");
    if (!(w >= 0)) fail(`families.${family}`, "must be ≥ 0");
    total += w;
  }
  if (total <= 0) fail("families", "must give some family a positive share");
  return c;
}
