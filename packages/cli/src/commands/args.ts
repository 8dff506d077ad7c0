// Option parsers shared by the commands: a bad value is a one-line error naming what was expected.
import { readFile } from "node:fs/promises";
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

/** Returns the JSON object of a `--config` file, or {} where none is named (errors name the file). */
export async function readConfigFile<T extends object>(file: string | undefined): Promise<Partial<T>> {
  if (!file) return {};
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw new Error(`${file}: cannot read the config: ${(err as Error).message}`);
  }
  try {
    const parsed = JSON.parse(text) as unknown;
    if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("not a JSON object");
    return parsed as Partial<T>;
  } catch (err) {
    throw new Error(`${file}: not a valid config: ${(err as Error).message}`);
  }
}

/** Returns the fields of `values` that were given (not undefined): the flags that override a config file. */
export function givenFields<T extends object>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Returns the queue URL of `--redis`/`--queue`, or of SR2SE_REDIS_URL where the flag has no value (keeps a password out of `ps`). */
export function queueUrl(flag: string | true | undefined): string {
  const url = typeof flag === "string" ? flag : process.env.SR2SE_REDIS_URL;
  if (!url) throw new Error("no queue URL: give one (redis://host:port) or set SR2SE_REDIS_URL");
  return url;
}
