import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

describe("README", () => {
  it("the example runs and prints what its comments say", async () => {
    const dist = join(import.meta.dirname, "..", "dist", "index.js");
    if (!existsSync(dist)) throw new Error("build @sr2se/vlm first (npm run build -w @sr2se/vlm)");
    const readme = await readFile(join(import.meta.dirname, "..", "README.md"), "utf8");
    const code = /```js\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(code).toBeDefined();
    const script = join(await mkdtemp(join(tmpdir(), "vlm-readme-")), "example.mjs");
    await writeFile(
      script,
      (code as string).replace('"@sr2se/vlm"', JSON.stringify(pathToFileURL(dist).href)),
    );
    const { stdout } = await promisify(execFile)(process.execPath, [script], {
      cwd: join(import.meta.dirname, ".."),
    });
    const expected = [...(code as string).matchAll(/console\.log\(.*\); \/\/ (.*)/g)].map((m) => m[1]);
    expect(expected.length).toBe(3);
    expect(stdout.trim().split("\n")).toEqual(expected);
  });
});
