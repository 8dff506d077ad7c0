import path from "node:path";
import { it } from "vitest";
import { expectExamplePrintsWhatItSays } from "../../../test-support/readme.js";

it("the README example runs and prints what it says", async () => {
  const entry = path.resolve(import.meta.dirname, "../src/index.ts");
  await expectExamplePrintsWhatItSays(import.meta.dirname, "@sr2se/hsr-ee", entry);
});
