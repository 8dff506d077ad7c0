import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import path from "node:path";
import { describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "..");

describe("the published package", () => {
  it("npm pack holds only dist, README, LICENSE and package.json", () => {
    const out = execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], {
      cwd: root,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    });
    const files = (JSON.parse(out) as { files: { path: string }[] }[])[0].files.map((f) => f.path);
    expect(files).toContain("dist/index.js");
    expect(files).toContain("README.md");
    expect(files).toContain("LICENSE");
    const stray = files.filter(
      (f) => !f.startsWith("dist/") && !["README.md", "LICENSE", "package.json"].includes(f),
    );
    expect(stray).toEqual([]);
  });

  it("the root entry (dist/index.js) imports nothing, not even node built-ins", () => {
    const file = path.join(root, "dist/index.js");
    expect(
      existsSync(file),
      "dist/index.js is missing: run `npx turbo run build --filter=@sr2se/rl` first",
    ).toBe(true);
    const js = readFileSync(file, "utf8");
    expect(js).not.toMatch(/^\s*import[\s{*"']/m);
    expect(js).not.toMatch(/\bimport\s*\(/);
    expect(js).not.toMatch(/\brequire\s*\(/);
    expect(js).not.toMatch(/\bfrom\s*["']/);
  });

  it("has no runtime dependency: the tensor entry's packages are optional peers", () => {
    const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8"));
    expect(pkg.dependencies ?? {}).toEqual({});
    const peers = Object.keys(pkg.peerDependencies ?? {}).sort();
    expect(peers).toEqual(["@sr2se/core", "@sr2se/hsr-ee", "@sr2se/tensor", "@sr2se/vlm"]);
    for (const p of peers) expect(pkg.peerDependenciesMeta?.[p]?.optional, p).toBe(true);
  });

  it("the tensor entry (dist/tensor.js) imports only its peers and node built-ins", () => {
    const file = path.join(root, "dist/tensor.js");
    expect(
      existsSync(file),
      "dist/tensor.js is missing: run `npx turbo run build --filter=@sr2se/rl` first",
    ).toBe(true);
    const js = readFileSync(file, "utf8");
    const imported = [...js.matchAll(/\bfrom\s*["']([^"']+)["']/g)].map((m) => m[1]);
    expect(imported.length).toBeGreaterThan(0);
    const allowed = (name: string) =>
      name.startsWith("node:") ||
      builtinModules.includes(name) ||
      /^@sr2se\/(core|hsr-ee|tensor|vlm)$/.test(name);
    for (const name of imported) expect(allowed(name), name).toBe(true);
  });
});
