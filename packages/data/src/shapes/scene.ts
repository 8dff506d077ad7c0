import type { Rng } from "@sr2se/core";
import type { WorldConfig } from "./config.js";
import { ALL_CATEGORIES, ALL_CELLS, type Color, type Shape, SIZES, type Size } from "./vocabulary.js";

/** One object of a scene. `center` is where it is drawn, as fractions of the image side ([x, y]). */
export type ShapeObject = {
  shape: Shape;
  color: Color;
  size: Size;
  cell: [number, number];
  center: [number, number];
};

/** A scene: its objects in reading order (row-major by cell) and how it is drawn. */
export interface Scene {
  theme: string;
  objects: ShapeObject[];
  /** Background sRGB. */
  background: [number, number, number];
  /** Seed of the pixel noise (0 when the config has none). */
  noiseSeed: number;
}

const BASE_GREY = 228;

/** Rounds to 4 decimals so the stored centre is exactly what the renderer uses. */
function round4(x: number): number {
  return Math.round(x * 10000) / 10000;
}

/** A random scene of the world: a theme, its usual objects with `coreProbability`, the rest at random. */
export function sampleScene(rng: Rng, config: WorldConfig, opts: { minDistinct?: number } = {}): Scene {
  const theme = config.themes[rng.weighted(config.themes.map((t) => t.weight))];
  const minObjects = Math.max(config.minObjects, opts.minDistinct ?? 0);
  const n = rng.int(minObjects, Math.max(minObjects, config.maxObjects) + 1);
  const categories: string[] = [];
  for (const core of theme.core) if (rng.bool(config.coreProbability)) categories.push(core);
  rng.shuffle(categories);
  categories.length = Math.min(categories.length, n);
  while (categories.length < n) {
    const c = rng.choice(ALL_CATEGORIES);
    // Scenes that must name distinct objects (POPE) draw without repeats.
    if (opts.minDistinct && categories.includes(c)) continue;
    categories.push(c);
  }
  rng.shuffle(categories);
  const cells = rng.sample(ALL_CELLS, n);
  const j = config.clutter.jitter;
  const objects: ShapeObject[] = categories.map((cat, i) => {
    const [color, shape] = cat.split(" ") as [Color, Shape];
    const cell: [number, number] = [cells[i][0], cells[i][1]];
    const size = rng.choice(SIZES);
    const cx = (cell[1] + 0.5 + (j > 0 ? rng.float(-j, j) : 0)) / 3;
    const cy = (cell[0] + 0.5 + (j > 0 ? rng.float(-j, j) : 0)) / 3;
    return { shape, color, size, cell, center: [round4(cx), round4(cy)] };
  });
  objects.sort((a, b) => a.cell[0] * 3 + a.cell[1] - (b.cell[0] * 3 + b.cell[1]));
  const t = config.clutter.tint;
  const background: [number, number, number] = [0, 1, 2].map(
    () => BASE_GREY + (t > 0 ? rng.int(-t, t + 1) : 0),
  ) as [number, number, number];
  const noiseSeed = config.clutter.noise > 0 ? rng.nextU32() : 0;
  return { theme: theme.name, objects, background, noiseSeed };
}
