import path from "node:path";
import { expect, it } from "vitest";
import {
  codeLines,
  expectExamplePrintsWhatItSays,
  printedLines,
  promisedOutput,
  readmeCode,
  runExample,
} from "../../../test-support/readme.js";

it("the README example has under 15 lines of plain arrays, runs, and prints what it says", async () => {
  const entry = path.resolve(import.meta.dirname, "../src/index.ts");
  const code = await expectExamplePrintsWhatItSays(import.meta.dirname, "@sr2se/rl", entry);
  expect(codeLines(code).length).toBeLessThan(15);
});

it("the tensor entry's README example runs and prints what it says", async () => {
  const code = readmeCode(import.meta.dirname, /## GRPO on the VLM[^\n]*\n[\s\S]*?```ts\n([\s\S]*?)```/);
  const expected = promisedOutput(code);
  expect(expected.length).toBe(3);
  const entry = path.resolve(import.meta.dirname, "../src/tensor.ts");
  // inside the package, so that "@sr2se/tensor" resolves as it does for a user
  const calls = await runExample(code, { from: "@sr2se/rl/tensor", entry }, import.meta.dirname);
  expect(printedLines(calls)).toEqual(expected);
});
