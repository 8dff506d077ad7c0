import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { epochOrder, microBatch, precomputeReferenceLogProbs, type SequenceScorer } from "../src/tensor.js";

const good = { id: "p-1", sample_id: "s-1", prompt: "q", chosen: "a", rejected: "b" };

describe("preference pairs (the schema of @sr2se/core)", () => {
  it("a bad pair stops the reference precompute before any scoring, naming file, line and field", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "sr-dpo-pairs-"));
    const file = path.join(dir, "pairs.jsonl");
    writeFileSync(
      file,
      `${JSON.stringify(good)}\n${JSON.stringify({ ...good, id: "p-2", chosen: undefined })}\n`,
    );
    let scored = 0;
    const reference: SequenceScorer = {
      sequenceLogProbs() {
        scored++;
        throw new Error("not reached");
      },
    };
    await expect(precomputeReferenceLogProbs(reference, file, path.join(dir, "out.jsonl"))).rejects.toThrow(
      `${file}:2: field "chosen" is missing`,
    );
    expect(scored).toBe(0);
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
