import { execFile } from "node:child_process";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { expect, test } from "vitest";

test("the README example runs (against the built package)", async () => {
  const readme = await readFile(new URL("../README.md", import.meta.url), "utf8");
  const code = /```ts\n([\s\S]*?)```/.exec(readme)?.[1] as string;
  expect(code).toContain("synthesize");
  const dir = await mkdtemp(join(tmpdir(), "sr2se-readme-"));
  const script = new URL("../readme-example.tmp.mjs", import.meta.url);
  await writeFile(script, code.replaceAll('"demo-', `"${dir}/demo-`));
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [script.pathname], { cwd: dir });
    expect(stdout).toContain("[ 16, 3, 48, 48 ]");
    expect(stdout).toContain("[]");
    const pope = await readFile(join(dir, "demo-bench", "pope_adversarial.jsonl"), "utf8");
    expect(pope.trim().split("\n").length).toBe(120);
  } finally {
    await import("node:fs/promises").then((fs) => fs.rm(script));
  }
});
