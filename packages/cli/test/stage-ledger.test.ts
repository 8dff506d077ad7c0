// The stage ledger: finished stages move to another ledger (an experiment's seeds now keep their own)
// without being lost or run again.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { StageLedger } from "../src/commands/stages.js";

describe("StageLedger.moveTo", () => {
  it("moves the stages under a prefix, keeps the others, and both files say so", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "sr2se-ledger-"));
    const options = { seeds: 2 };
    const main = await StageLedger.open(path.join(dir, "experiment.json"), "experiment", options);
    const stages = ["data", "seed-1/sft", "seed-1/eval/sft/test", "seed-2/sft"].map((name) => ({
      name,
      what: name,
      run: async () => {},
    }));
    await main.runAll(stages, "rerun");
    const seed1 = await StageLedger.open(path.join(dir, "seed-1", "stages.json"), "seed 1", options);
    expect(await main.moveTo(seed1, "seed-1/")).toBe(2);
    expect(await main.moveTo(seed1, "seed-1/")).toBe(0);
    const read = (f: string) => Object.keys(JSON.parse(readFileSync(path.join(dir, f), "utf8")).done);
    expect(read("experiment.json")).toEqual(["data", "seed-2/sft"]);
    expect(read("seed-1/stages.json")).toEqual(["seed-1/sft", "seed-1/eval/sft/test"]);
    expect(seed1.isDone("seed-1/sft") && !main.isDone("seed-1/sft")).toBe(true);
    // a reopened ledger with other options is refused, naming the option
    await expect(
      StageLedger.open(path.join(dir, "seed-1", "stages.json"), "seed 1", { seeds: 3 }),
    ).rejects.toThrow(/started with seeds = 2, now 3/);
  });
});
