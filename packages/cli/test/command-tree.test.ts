// The command tree: each group is created in one place, whatever order its parts register in.
import { describe, expect, it } from "vitest";
import { sr2seSync } from "./cli.js";

describe("sr2se's command tree", () => {
  it("has one train group holding every trainer", () => {
    const top = sr2seSync(["--help"]);
    expect(top.status).toBe(0);
    expect(top.stdout.match(/^\s+train\b/gm)).toHaveLength(1);
    const train = sr2seSync(["train", "--help"]);
    expect(train.status).toBe(0);
    expect(train.stdout).toMatch(/^\s+sft\b/m);
    expect(train.stdout).toMatch(/^\s+sr-dpo\b/m);
  });
});
