/** The closed vocabulary of the shapes world: what can appear, in which colours, sizes and places. */

export const SHAPES = ["circle", "square", "triangle", "diamond", "star", "hexagon"] as const;
export type Shape = (typeof SHAPES)[number];

export const COLORS = ["red", "green", "blue", "yellow", "purple", "orange", "pink", "brown"] as const;
export type Color = (typeof COLORS)[number];

export const SIZES = ["small", "large"] as const;
export type Size = (typeof SIZES)[number];

/** sRGB of each colour: saturated and far apart, so the colour at an object's centre identifies it. */
export const COLOR_RGB: Readonly<Record<Color, readonly [number, number, number]>> = {
  red: [220, 38, 38],
  green: [34, 160, 60],
  blue: [37, 84, 220],
  yellow: [240, 210, 30],
  purple: [130, 60, 190],
  orange: [245, 135, 20],
  pink: [245, 120, 200],
  brown: [120, 72, 30],
};

/** Names of the 3×3 grid cells, [row][col]: row 0 is the top, col 0 the left. */
export const CELL_NAMES: readonly (readonly string[])[] = [
  ["top-left", "top", "top-right"],
  ["left", "center", "right"],
  ["bottom-left", "bottom", "bottom-right"],
];

/** The name of a grid cell ("top-left", "center", …). */
export function cellName(cell: readonly [number, number]): string {
  const name = CELL_NAMES[cell[0]]?.[cell[1]];
  if (name === undefined) throw new RangeError(`cell [${cell.join(", ")}] is outside the 3×3 grid`);
  return name;
}

/** Every cell of the grid in reading order (row-major). */
export const ALL_CELLS: readonly (readonly [number, number])[] = [0, 1, 2].flatMap((r) =>
  [0, 1, 2].map((c) => [r, c] as const),
);

/** An object category: a colour and a shape ("red circle"). POPE asks about categories. */
export function category(o: { color: string; shape: string }): string {
  return `${o.color} ${o.shape}`;
}

/** Every category of the world (8 colours × 6 shapes), colour-major. */
export const ALL_CATEGORIES: readonly string[] = COLORS.flatMap((c) => SHAPES.map((s) => `${c} ${s}`));

/** The plural of a shape name. */
export function plural(shape: string): string {
  return `${shape}s`;
}

/**
 * Unit outlines (radius ≈ 1, y down) of the polygon shapes. Vertices are literals rather than
 * computed with sin/cos, whose last bits may differ between platforms: renders stay byte-identical.
 */
export const SHAPE_POLYGONS: Readonly<
  Record<Exclude<Shape, "circle">, readonly (readonly [number, number])[]>
> = {
  square: [
    [-0.82, -0.82],
    [0.82, -0.82],
    [0.82, 0.82],
    [-0.82, 0.82],
  ],
  triangle: [
    [0, -1.1],
    [1.05, 0.72],
    [-1.05, 0.72],
  ],
  diamond: [
    [0, -1.08],
    [0.78, 0],
    [0, 1.08],
    [-0.78, 0],
  ],
  hexagon: [
    [1, 0],
    [0.5, 0.866025],
    [-0.5, 0.866025],
    [-1, 0],
    [-0.5, -0.866025],
    [0.5, -0.866025],
  ],
  star: [
    [0, -1.1],
    [0.293893, -0.404508],
    [1.046162, -0.339919],
    [0.475528, 0.154508],
    [0.646564, 0.889919],
    [0, 0.5],
    [-0.646564, 0.889919],
    [-0.475528, 0.154508],
    [-1.046162, -0.339919],
    [-0.293893, -0.404508],
  ],
};
