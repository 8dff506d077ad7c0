// Each package's README holds an example whose `// → ` comments say what it prints; the package's
// tests run it against the sources, so the README cannot drift from the code.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "vitest";

/** Returns the code that group 1 of `block` captures in the README of the package whose tests live in `testDir`. */
export function readmeCode(testDir: string, block: RegExp): string {
  const file = path.resolve(testDir, "../README.md");
  const code = block.exec(readFileSync(file, "utf8"))?.[1];
  if (code === undefined) throw new Error(`${file}: no code block matches ${block}`);
  return code;
}

/** Returns what the example's `// → ` comments say it prints, one entry a line. */
export function promisedOutput(code: string): string[] {
  return [...code.matchAll(/^\/\/ → (.*)$/gm)].map((m) => m[1]);
}

/** Returns the example's lines of code: not blank, not a `// → ` comment. */
export function codeLines(code: string): string[] {
  return code.split("\n").filter((l) => l.trim() !== "" && !l.trim().startsWith("// →"));
}

/**
 * Returns the arguments of each console.log call the example made, run as a module whose
 * `from "<from>"` import points at `entry`. It runs in a fresh folder under `under` (the system's
 * temporary folder unless named; name one inside the package where its bare imports must resolve
 * as a user's would), removed afterwards.
 */
export async function runExample(
  code: string,
  imports: { from: string; entry: string },
  under = tmpdir(),
): Promise<unknown[][]> {
  const dir = mkdtempSync(path.join(under, ".readme-"));
  const file = path.join(dir, "example.ts");
  writeFileSync(file, code.replace(`from "${imports.from}"`, `from ${JSON.stringify(imports.entry)}`));
  const calls: unknown[][] = [];
  const log = console.log;
  console.log = (...args: unknown[]) => calls.push(args);
  try {
    await import(file);
  } finally {
    console.log = log;
    rmSync(dir, { recursive: true, force: true });
  }
  return calls;
}

/** Returns console.log calls as the lines they print (arguments joined by spaces). */
export function printedLines(calls: unknown[][]): string[] {
  return calls.map((args) => args.map(String).join(" "));
}

/**
 * Runs the README's `## Example` with the import of `from` pointed at `entry`, expects it to print
 * what its `// → ` comments say (and to say something), and returns its code.
 */
export async function expectExamplePrintsWhatItSays(
  testDir: string,
  from: string,
  entry: string,
): Promise<string> {
  const code = readmeCode(testDir, /## Example\n\n```ts\n([\s\S]*?)```/);
  const expected = promisedOutput(code);
  expect(expected.length).toBeGreaterThan(0);
  expect(printedLines(await runExample(code, { from, entry }))).toEqual(expected);
  return code;
}
