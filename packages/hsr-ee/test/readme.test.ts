import path from "node:path";
import { expect, it } from "vitest";
import { printedLines, promisedOutput, readmeCode, runExample } from "../../../test-support/readme.js";

it("the README example runs and prints what it says", async () => {
  const code = readmeCode(import.meta.dirname, /## Example\n\n```ts\n([\s\S]*?)```/);
  const expected = promisedOutput(code);
  expect(expected.length).toBeGreaterThan(0);
  const entry = path.resolve(import.meta.dirname, "../src/index.ts");
  expect(printedLines(await runExample(code, { from: "@sr2se/hsr-ee", entry }))).toEqual(expected);
});
