import { readFileSync } from "node:fs";

/** Reads a fixture written by scripts/verl_golden.py, turning "NaN" and "±Infinity" back into numbers. */
export function readFixture<T>(name: string): { source: Record<string, unknown>; cases: T[] } {
  const text = readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8");
  return JSON.parse(text, (_key, value) =>
    value === "NaN"
      ? Number.NaN
      : value === "Infinity"
        ? Infinity
        : value === "-Infinity"
          ? -Infinity
          : value,
  );
}

/**
 * Throws unless `actual` equals `expected` up to `ulps` units in the last place of the dtype, measured
 * at `scale` (at least |expected|): NaN must meet NaN and an infinity the same infinity.
 */
export function expectClose(
  actual: number,
  expected: number,
  dtype: "float32" | "float64",
  ulps: number,
  what: string,
  scale = 0,
) {
  if (Number.isNaN(expected) || !Number.isFinite(expected)) {
    if (Object.is(actual, expected) || (Number.isNaN(actual) && Number.isNaN(expected))) return;
    throw new Error(`${what}: got ${actual}, verl gives ${expected}`);
  }
  const unit = dtype === "float32" ? 2 ** -23 : 2 ** -52;
  const tolerance = ulps * unit * Math.max(Math.abs(expected), scale, Number.MIN_VALUE);
  if (!(Math.abs(actual - expected) <= tolerance)) {
    const off = Math.abs(actual - expected) / (unit * Math.max(Math.abs(expected), scale));
    throw new Error(
      `${what}: got ${actual}, verl gives ${expected} (${off.toPrecision(3)} ulp off, ${ulps} allowed)`,
    );
  }
}

/** expectClose over every value of two equal-shaped matrices, the ulps measured at the matrix's largest value. */
export function expectAllClose(
  actual: ArrayLike<ArrayLike<number>>,
  expected: number[][],
  dtype: "float32" | "float64",
  ulps: number,
  what: string,
) {
  if (actual.length !== expected.length)
    throw new Error(`${what}: ${actual.length} rows, verl gives ${expected.length}`);
  // One scale for the matrix, its largest finite value: a value near 0 that a difference of
  // larger ones produced is only as exact as those.
  let scale = 0;
  for (const row of expected)
    for (const v of row) if (Number.isFinite(v)) scale = Math.max(scale, Math.abs(v));
  for (let i = 0; i < expected.length; i++) {
    if (actual[i].length !== expected[i].length) {
      throw new Error(`${what}[${i}]: ${actual[i].length} columns, verl gives ${expected[i].length}`);
    }
    for (let j = 0; j < expected[i].length; j++)
      expectClose(actual[i][j], expected[i][j], dtype, ulps, `${what}[${i}][${j}]`, scale);
  }
}
