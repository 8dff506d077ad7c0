// Option parsers shared by the commands: a bad value is a one-line error naming what was expected.
import { InvalidArgumentError } from "commander";

/** Parses an integer option of at least `min`. */
export function integer(min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min)
      throw new InvalidArgumentError(`expected an integer ≥ ${min}, got "${value}"`);
    return n;
  };
}
