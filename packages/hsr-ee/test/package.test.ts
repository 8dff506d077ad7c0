import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { builtFile, importedModules } from "../../../test-support/package.js";

const root = path.resolve(import.meta.dirname, "..");

describe("the root entry stays engine-free", () => {
  it("depends on @sr2se/core alone", () => {
    const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8"));
    expect(Object.keys(pkg.dependencies ?? {})).toEqual(["@sr2se/core"]);
  });

  it("dist/index.js imports nothing but @sr2se/core", () => {
    const js = builtFile(root, "dist/index.js");
    expect(importedModules(js).filter((m) => m !== "@sr2se/core")).toEqual([]);
    expect(js).not.toMatch(/\brequire\s*\(/);
  });
});
