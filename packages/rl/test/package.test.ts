import { readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  builtFile,
  expectPacksOnlyDist,
  importedModules,
  moduleLoads,
} from "../../../test-support/package.js";

const root = path.resolve(import.meta.dirname, "..");

describe("the published package", () => {
  it("npm pack holds only dist, README, LICENSE and package.json", () => {
    expectPacksOnlyDist(root);
  });

  it("the root entry (dist/index.js) imports nothing, not even node built-ins", () => {
    expect(moduleLoads(builtFile(root, "dist/index.js"))).toEqual([]);
  });

  it("has no runtime dependency: the tensor entry's packages are optional peers", () => {
    const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8"));
    expect(pkg.dependencies ?? {}).toEqual({});
    const peers = Object.keys(pkg.peerDependencies ?? {}).sort();
    expect(peers).toEqual(["@sr2se/core", "@sr2se/hsr-ee", "@sr2se/tensor", "@sr2se/vlm"]);
    for (const p of peers) expect(pkg.peerDependenciesMeta?.[p]?.optional, p).toBe(true);
  });

  it("the tensor entry (dist/tensor.js) imports only its peers and node built-ins", () => {
    const imported = importedModules(builtFile(root, "dist/tensor.js"));
    expect(imported.length).toBeGreaterThan(0);
    const allowed = (name: string) =>
      name.startsWith("node:") ||
      builtinModules.includes(name) ||
      /^@sr2se\/(core|hsr-ee|tensor|vlm)$/.test(name);
    for (const name of imported) expect(allowed(name), name).toBe(true);
  });
});
