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

/** Parses a finite number option of at least `min`. */
export function number(min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < min)
      throw new InvalidArgumentError(`expected a number ≥ ${min}, got "${value}"`);
    return n;
  };
}

/** Parses `--device`: cpu or webgpu. */
export function device(value: string): "cpu" | "webgpu" {
  if (value !== "cpu" && value !== "webgpu")
    throw new InvalidArgumentError(`expected cpu or webgpu, got "${value}"`);
  return value;
}
