import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "..");

describe("the root entry stays engine-free", () => {
  it("depends on @sr2se/core alone", () => {
    const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8"));
    expect(Object.keys(pkg.dependencies ?? {})).toEqual(["@sr2se/core"]);
  });

  it("dist/index.js imports nothing but @sr2se/core", () => {
    const file = path.join(root, "dist/index.js");
    expect(
      existsSync(file),
      "dist/index.js is missing: run `npx turbo run build --filter=@sr2se/hsr-ee`",
    ).toBe(true);
    const js = readFileSync(file, "utf8");
    const imported = [...js.matchAll(/\bfrom\s*["']([^"']+)["']|\bimport\s*\(\s*["']([^"']+)["']/g)].map(
      (m) => m[1] ?? m[2],
    );
    expect(imported.filter((m) => m !== "@sr2se/core")).toEqual([]);
    expect(js).not.toMatch(/\brequire\s*\(/);
  });
});
