import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect, it } from "vitest";

it("the README example has under 15 lines of plain arrays, runs, and prints what it says", async () => {
  const readme = readFileSync(path.resolve(import.meta.dirname, "../README.md"), "utf8");
  const code = /## Example\n\n```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(code).toBeDefined();
  const lines = (code as string).split("\n").filter((l) => l.trim() !== "" && !l.trim().startsWith("// →"));
  expect(lines.length).toBeLessThan(15);
  const expected = [...(code as string).matchAll(/^\/\/ → (.*)$/gm)].map((m) => m[1]);
  expect(expected.length).toBeGreaterThan(0);

  const dir = mkdtempSync(path.join(tmpdir(), "rl-readme-"));
  const file = path.join(dir, "example.ts");
  const entry = JSON.stringify(path.resolve(import.meta.dirname, "../src/index.ts"));
  writeFileSync(file, (code as string).replace('from "@sr2se/rl"', `from ${entry}`));
  const printed: string[] = [];
  const log = console.log;
  console.log = (...args: unknown[]) => printed.push(args.map(String).join(" "));
  try {
    await import(file);
  } finally {
    console.log = log;
    rmSync(dir, { recursive: true, force: true });
  }
  expect(printed).toEqual(expected);
});

it("the tensor entry's README example runs and prints what it says", async () => {
  const readme = readFileSync(path.resolve(import.meta.dirname, "../README.md"), "utf8");
  const code = /## GRPO on the VLM[^\n]*\n[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(code).toBeDefined();
  const expected = [...(code as string).matchAll(/^\/\/ → (.*)$/gm)].map((m) => m[1]);
  expect(expected.length).toBe(3);
  // inside the package, so that "@sr2se/tensor" resolves as it does for a user
  const dir = mkdtempSync(path.join(import.meta.dirname, ".readme-"));
  const file = path.join(dir, "example.ts");
  const entry = JSON.stringify(path.resolve(import.meta.dirname, "../src/tensor.ts"));
  writeFileSync(file, (code as string).replace('from "@sr2se/rl/tensor"', `from ${entry}`));
  const printed: string[] = [];
  const log = console.log;
  console.log = (...args: unknown[]) => printed.push(args.map(String).join(" "));
  try {
    await import(file);
  } finally {
    console.log = log;
    rmSync(dir, { recursive: true, force: true });
  }
  expect(printed).toEqual(expected);
});
