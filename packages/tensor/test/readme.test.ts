// The README example runs (against the sources) and does what it says.
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { expect, it } from "vitest";

it("the README example runs", async () => {
  const readme = readFileSync(path.resolve(import.meta.dirname, "../README.md"), "utf8");
  const code = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(code).toBeDefined();
  const src = code!.replace(
    'from "@sr2se/tensor"',
    `from ${JSON.stringify(path.resolve(import.meta.dirname, "../src/index.ts"))}`,
  );
  const file = path.resolve(import.meta.dirname, ".readme-example.ts");
  writeFileSync(file, src);
  const logs: unknown[][] = [];
  const log = console.log;
  console.log = (...args: unknown[]) => logs.push(args);
  try {
    await import(file);
  } finally {
    console.log = log;
    (await import("node:fs")).rmSync(file, { force: true });
  }
  const grad = logs[0][0] as number[][];
  expect(grad).toHaveLength(2);
  const [, first, last] = /loss ([\d.]+) → ([\d.]+)/.exec(logs[1][0] as string)!.map(Number);
  expect(last).toBeLessThan(first);
});
