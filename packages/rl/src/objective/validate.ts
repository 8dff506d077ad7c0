/** Rows of per-token values, one row a response; number arrays or typed arrays. */
export type Matrix = ArrayLike<ArrayLike<number>>;

/**
 * Throws unless `m` is a rectangular array of numbers (NaN and ±Infinity allowed: verl lets them
 * through, and so do we) with `rows` rows and `cols` columns when given. Returns its column count.
 */
export function checkMatrix(
  fn: string,
  arg: string,
  m: Matrix,
  rows?: number,
  cols?: number,
  against = "",
): number {
  if (m === null || typeof m !== "object" || typeof m.length !== "number") {
    throw new TypeError(`${fn}: ${arg} must be an array of rows (number[][])`);
  }
  if (rows !== undefined && m.length !== rows) {
    throw new RangeError(`${fn}: ${arg} has ${m.length} rows but ${against} has ${rows}`);
  }
  let width = cols;
  for (let i = 0; i < m.length; i++) {
    const row = m[i];
    if (row === null || typeof row !== "object" || typeof row.length !== "number") {
      throw new TypeError(`${fn}: ${arg} row ${i} is ${describe(row)}, not an array of numbers`);
    }
    if (width === undefined) width = row.length;
    else if (row.length !== width) {
      const other = cols === undefined ? `row 0 of ${arg}` : against;
      throw new RangeError(`${fn}: ${arg} row ${i} has ${row.length} columns but ${other} has ${width}`);
    }
    for (let j = 0; j < row.length; j++) {
      if (typeof row[j] !== "number") {
        throw new TypeError(`${fn}: ${arg}[${i}][${j}] is ${describe(row[j])}, not a number`);
      }
    }
  }
  return width ?? 0;
}

/** Throws unless `mask` has the shape `rows` × `cols` and holds only 0 and 1 (verl's masks are integer tensors). */
export function checkMask(
  fn: string,
  arg: string,
  mask: Matrix,
  rows: number,
  cols: number,
  against: string,
): void {
  checkMatrix(fn, arg, mask, rows, cols, against);
  for (let i = 0; i < mask.length; i++) {
    const row = mask[i];
    for (let j = 0; j < row.length; j++) {
      const v = row[j];
      if (v !== 0 && v !== 1) throw new RangeError(`${fn}: ${arg}[${i}][${j}] is ${v}, not 0 or 1`);
    }
  }
}

/** Throws unless `value` is a finite number at least `min` (and at most `max` when given). */
export function checkOption(fn: string, name: string, value: number, min: number, max = Infinity): void {
  if (typeof value !== "number" || !Number.isFinite(value) || value < min || value > max) {
    const range = max === Infinity ? `a finite number ≥ ${min}` : `a number in [${min}, ${max}]`;
    throw new RangeError(`${fn}: options.${name} is ${describe(value)}, not ${range}`);
  }
}

function describe(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  return typeof v === "object" ? "an object" : String(v);
}
