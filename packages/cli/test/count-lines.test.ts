import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect, it } from "vitest";
import { countLines } from "../src/commands/stages.js";

it("countLines counts the non-blank lines of a streamed file, a last line without newline included", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "sr2se-count-"));
  const f = (name: string, text: string) => {
    writeFileSync(path.join(dir, name), text);
    return path.join(dir, name);
  };
  expect(await countLines(path.join(dir, "missing.jsonl"))).toBe(0);
  expect(await countLines(f("empty.jsonl", ""))).toBe(0);
  expect(await countLines(f("crlf.jsonl", '{"a":1}\r\n\r\n  \n{"b":2}\r\n'))).toBe(2);
  expect(await countLines(f("tail.jsonl", '{"a":1}\n{"b":2}'))).toBe(2);
  // across the stream's 64 KiB chunks
  const big = Array.from({ length: 7 }, (_, i) => JSON.stringify({ i, pad: "x".repeat(30_000) })).join("\n");
  expect(await countLines(f("big.jsonl", `${big}\n\n`))).toBe(7);
});
