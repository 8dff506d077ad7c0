// What a workspace package publishes: the tarball's files and what its built entries load.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { expect } from "vitest";

/** Returns the paths `npm pack` would put in the tarball of the package at `root`. */
export function packedFiles(root: string): string[] {
  const out = execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], {
    cwd: root,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "ignore"],
  });
  return (JSON.parse(out) as { files: { path: string }[] }[])[0].files.map((f) => f.path);
}

/** Expects `npm pack` of the package at `root` to hold its build, README and LICENSE, and nothing else but package.json. */
export function expectPacksOnlyDist(root: string): void {
  const files = packedFiles(root);
  expect(files).toEqual(expect.arrayContaining(["dist/index.js", "README.md", "LICENSE"]));
  const docs = ["README.md", "LICENSE", "package.json"];
  expect(files.filter((f) => !f.startsWith("dist/") && !docs.includes(f))).toEqual([]);
}

/** Returns the text of a built file of the package at `root`; throws, naming the build to run, where it is missing. */
export function builtFile(root: string, file: string): string {
  const full = path.join(root, file);
  if (!existsSync(full)) {
    const name = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")).name;
    throw new Error(`${file} is missing: run \`npx turbo run build --filter=${name}\` first`);
  }
  return readFileSync(full, "utf8");
}

/** Returns every place built code loads a module: import statements, import() and require(). */
export function moduleLoads(js: string): string[] {
  const load = /^\s*import[\s{*"'].*$|\bimport\s*\(|\brequire\s*\(|\bfrom\s*["'][^"']*["']/gm;
  return [...js.matchAll(load)].map((m) => m[0].trim());
}

/** Returns the modules built code imports by name (`from "x"` and `import("x")`). */
export function importedModules(js: string): string[] {
  return [...js.matchAll(/\bfrom\s*["']([^"']+)["']|\bimport\s*\(\s*["']([^"']+)["']/g)].map(
    (m) => m[1] ?? m[2],
  );
}
