import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { epochOrder, microBatch, parsePair, readPairs } from "../src/tensor.js";

const good = { id: "p-1", sample_id: "s-1", prompt: "q", chosen: "a", rejected: "b" };

describe("preference pairs (DESIGN.md JSONL)", () => {
  it("names the file, line and field of a bad pair", () => {
    expect(() => parsePair(JSON.stringify({ ...good, chosen: undefined }), "pairs.jsonl", 41)).toThrow(
      'pairs.jsonl:41: field "chosen" is missing',
    );
    expect(() => parsePair(JSON.stringify({ ...good, rejected: 3 }), "pairs.jsonl", 2)).toThrow(
      'pairs.jsonl:2: field "rejected" must be a string',
    );
    expect(() => parsePair("{not json", "pairs.jsonl", 7)).toThrow("pairs.jsonl:7: not valid JSON");
    expect(() =>
      parsePair(JSON.stringify({ ...good, meta: { ref_chosen_logps: "x" } }), "pairs.jsonl", 3),
    ).toThrow('pairs.jsonl:3: field "meta.ref_chosen_logps" must be a finite number');
    expect(() => parsePair(JSON.stringify({ ...good, meta: { weight: -1 } }), "pairs.jsonl", 4)).toThrow(
      'pairs.jsonl:4: field "meta.weight" must be >= 0',
    );
  });

  it("reads a file with a BOM, CRLF and blank lines, keeping line numbers, and refuses repeated ids", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "sr-dpo-pairs-"));
    const file = path.join(dir, "pairs.jsonl");
    writeFileSync(file, `\uFEFF${JSON.stringify(good)}\r\n\r\n${JSON.stringify({ ...good, id: "p-2" })}\r\n`);
    const records = await readPairs(file);
    expect(records.map((r) => [r.pair.id, r.line])).toEqual([
      ["p-1", 1],
      ["p-2", 3],
    ]);
    writeFileSync(file, `${JSON.stringify(good)}\n${JSON.stringify(good)}\n`);
    await expect(readPairs(file)).rejects.toThrow(`${file}:2: id "p-1" repeats line 1`);
    writeFileSync(file, "\n");
    await expect(readPairs(file)).rejects.toThrow(`${file}:1: the file holds no preference pairs`);
  });

  it("orders batches by a seeded shuffle per epoch, every item once an epoch", () => {
    const order = Array.from(epochOrder(10, 3, 0));
    expect([...order].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(Array.from(epochOrder(10, 3, 0))).toEqual(order);
    expect(Array.from(epochOrder(10, 3, 1))).not.toEqual(order);
    const seen = [0, 1, 2, 3].flatMap((m) => microBatch(10, 3, m, 3).indices);
    expect(seen).toEqual(order);
    expect(microBatch(10, 3, 3, 3).indices).toHaveLength(1);
    expect(microBatch(10, 3, 4, 3).epoch).toBe(1);
  });
});
