import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { tempDir } from "./helpers.js";

const here = path.dirname(fileURLToPath(import.meta.url));

describe("README", () => {
  it("the example runs and prints what its comments say", async () => {
    const dist = path.join(here, "..", "dist", "index.js");
    if (!existsSync(dist)) throw new Error("build @sr2se/ipr first (npm run build -w @sr2se/ipr)");
    const readme = await readFile(path.join(here, "..", "README.md"), "utf8");
    const code = /```js\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(code).toBeDefined();
    const script = path.join(await tempDir(), "example.mjs");
    // Each workspace package the example imports is taken from its build.
    const packages = path.join(here, "..", "..", "..", "node_modules", "@sr2se");
    await writeFile(
      script,
      (code as string).replace(/"@sr2se\/([\w-]+)"/g, (_, name: string) =>
        JSON.stringify(
          pathToFileURL(name === "ipr" ? dist : path.join(packages, name, "dist", "index.js")).href,
        ),
      ),
    );
    const { stdout } = await promisify(execFile)(process.execPath, [script]);
    const expected = [...(code as string).matchAll(/console\.log\(.*\); \/\/ (.*)/g)].map((m) => m[1]);
    expect(stdout.trim().split("\n")).toEqual(expected);
  });
});
