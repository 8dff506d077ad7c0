import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect, it } from "vitest";

it("the README example runs", async () => {
  const readme = readFileSync(path.resolve(import.meta.dirname, "../README.md"), "utf8");
  const code = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(code).toBeDefined();
  const dir = mkdtempSync(path.join(tmpdir(), "sr2se-readme-"));
  writeFileSync(
    path.join(dir, "samples.jsonl"),
    `{"id":"a","image":"a.png","question":"q","answer":"yes"}\n{"id":"b"}\n{"id":"c","image":"c.png","question":"q","answer":"no"}\n`,
  );
  const cwd = process.cwd();
  process.chdir(dir);
  const logs: unknown[] = [];
  const log = console.log;
  console.log = (...args: unknown[]) => logs.push(args);
  try {
    const src = code!.replace(
      'from "@sr2se/core"',
      `from ${JSON.stringify(path.resolve(import.meta.dirname, "../src/index.ts"))}`,
    );
    const file = path.join(dir, "example.ts");
    writeFileSync(file, src);
    await import(file);
  } finally {
    console.log = log;
    process.chdir(cwd);
  }
  const written = readFileSync(path.join(dir, "answers.jsonl"), "utf8").trim().split("\n");
  expect(written.map((l) => JSON.parse(l).id)).toEqual(["a", "c"]);
  expect(readFileSync(path.join(dir, "logs", "train.jsonl"), "utf8")).toBe(
    '{"step":1,"loss":0.69}\n{"step":2,"loss":0.6}\n',
  );
  expect((logs[0] as unknown[][])[0]).toHaveLength(1);
  expect(logs[1]).toEqual([
    { description: "A red circle.", think: undefined, answer: "yes", level: 1, formatOk: true },
  ]);
});
