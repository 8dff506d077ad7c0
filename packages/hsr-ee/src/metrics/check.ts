/** Throws unless `values` and `labels` are equally long, non-empty, and the values finite numbers in range. */
export function checkPairs(
  name: string,
  values: readonly number[],
  labels: readonly boolean[],
  range?: [number, number],
): void {
  if (values.length !== labels.length) {
    throw new RangeError(`${name}: ${values.length} values but ${labels.length} labels`);
  }
  if (values.length === 0) throw new RangeError(`${name}: no values`);
  values.forEach((v, i) => {
    if (!Number.isFinite(v) || (range && (v < range[0] || v > range[1]))) {
      const want = range ? `a number in [${range[0]}, ${range[1]}]` : "a finite number";
      throw new RangeError(`${name}: value ${i} is ${v}, not ${want}`);
    }
  });
}
