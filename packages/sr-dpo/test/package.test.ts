import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { builtFile, expectPacksOnlyDist, moduleLoads } from "../../../test-support/package.js";

const root = path.resolve(import.meta.dirname, "..");

describe("the published package", () => {
  it("npm pack holds only dist, README, LICENSE and package.json", () => {
    expectPacksOnlyDist(root);
  });

  it("the core entry (dist/index.js) imports nothing, not even node built-ins", () => {
    expect(moduleLoads(builtFile(root, "dist/index.js"))).toEqual([]);
  });

  it("the core entry has no runtime dependency", () => {
    const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8"));
    expect(pkg.dependencies ?? {}).toEqual({});
    expect(pkg.peerDependenciesMeta?.["@sr2se/tensor"]?.optional).toBe(true);
  });
});
