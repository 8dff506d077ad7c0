import path from "node:path";
import { expect, it } from "vitest";
import { codeLines, expectExamplePrintsWhatItSays } from "../../../test-support/readme.js";

it("the README example has under 15 lines of plain arrays, runs, and prints what it says", async () => {
  const entry = path.resolve(import.meta.dirname, "../src/index.ts");
  const code = await expectExamplePrintsWhatItSays(import.meta.dirname, "@sr2se/sr-dpo", entry);
  expect(codeLines(code).length).toBeLessThan(15);
});
