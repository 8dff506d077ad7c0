// The README example runs (against the sources) and does what it says.
import path from "node:path";
import { expect, it } from "vitest";
import { readmeCode, runExample } from "../../../test-support/readme.js";

it("the README example runs", async () => {
  const code = readmeCode(import.meta.dirname, /```ts\n([\s\S]*?)```/);
  const entry = path.resolve(import.meta.dirname, "../src/index.ts");
  const logs = await runExample(code, { from: "@sr2se/tensor", entry }, import.meta.dirname);
  const grad = logs[0][0] as number[][];
  expect(grad).toHaveLength(2);
  const [, first, last] = /loss ([\d.]+) → ([\d.]+)/.exec(logs[1][0] as string)!.map(Number);
  expect(last).toBeLessThan(first);
});
