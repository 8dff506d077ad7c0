// No cycles between files; type-only imports count too: they tie the files' meaning together.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect, it } from "vitest";

const src = path.resolve(import.meta.dirname, "../src");

/** Every .ts file under `dir`. */
function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(path.join(dir, e.name)) : e.name.endsWith(".ts") ? [path.join(dir, e.name)] : [],
  );
}

/** The files of `src` that `file` imports (relative specifiers, static or dynamic). */
function imports(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const specs = [...text.matchAll(/(?:from|import)\s*\(?\s*["'](\.{1,2}\/[^"']+)["']/g)].map(
    (m) => m[1] as string,
  );
  return specs.map((s) => path.resolve(path.dirname(file), s.replace(/\.js$/, ".ts")));
}

/** The import cycles among `nodes`, each as the list of files around it. */
function cycles(nodes: string[]): string[][] {
  const graph = new Map(nodes.map((f) => [f, imports(f)]));
  const found: string[][] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (f: string) => {
    state.set(f, "open");
    stack.push(f);
    for (const g of graph.get(f) ?? []) {
      if (state.get(g) === "open")
        found.push(stack.slice(stack.indexOf(g)).map((p) => path.relative(src, p)));
      else if (!state.has(g)) visit(g);
    }
    stack.pop();
    state.set(f, "done");
  };
  for (const f of nodes) if (!state.has(f)) visit(f);
  return found;
}

it("no file of the package takes part in an import cycle", () => {
  const all = files(src);
  expect(all.map((f) => path.relative(src, f))).toContain(path.join("engine", "refinement-engine.ts"));
  expect(cycles(all)).toEqual([]);
});

it("the check finds a cycle made of a type-only import", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "ipr-cycles-"));
  writeFileSync(path.join(dir, "a.ts"), 'import { b } from "./b.js";\nexport const a = b;\n');
  writeFileSync(path.join(dir, "b.ts"), 'import type { A } from "./c.js";\nexport const b = 1 as A;\n');
  writeFileSync(path.join(dir, "c.ts"), 'export type A = typeof import("./a.js").a;\n');
  expect(cycles(files(dir))).toHaveLength(1);
});
