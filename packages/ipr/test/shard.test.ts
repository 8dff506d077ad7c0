import path from "node:path";
import type { PreferencePair } from "@sr2se/core";
import { describe, expect, it } from "vitest";
import { inShard, parseShard, RefinementEngine, ScriptedPolicy, shardOf } from "../src/index.js";
import { readLines, respond, sample, tempDir } from "./helpers.js";

describe("--shard i/N", () => {
  it("splits ids into N disjoint parts that cover them all, near evenly", () => {
    const ids = Array.from({ length: 4000 }, (_, i) => `s-${String(i).padStart(6, "0")}`);
    const parts = [0, 1, 2, 3].map((index) => ids.filter((id) => inShard(id, { index, count: 4 })));
    expect(parts.reduce((n, p) => n + p.length, 0)).toBe(ids.length);
    expect(new Set(parts.flat()).size).toBe(ids.length);
    for (const p of parts) expect(Math.abs(p.length - 1000)).toBeLessThan(120);
  });

  it("depends on the id alone, not on the order of the file", () => {
    expect(shardOf("s-000123", 7)).toBe(shardOf("s-000123", 7));
    expect(inShard("anything", { index: 0, count: 1 })).toBe(true);
    expect(inShard("anything", undefined)).toBe(true);
  });

  it("parses i/N and rejects anything else with the flag's value", () => {
    expect(parseShard("2/8")).toEqual({ index: 2, count: 8 });
    expect(() => parseShard("8/8")).toThrow('--shard "8/8": i must be in 0..7');
    expect(() => parseShard("1/0")).toThrow("N must be at least 1");
    expect(() => parseShard("a/b")).toThrow('--shard "a/b": expected i/N');
  });

  it("two shard runs together give exactly the pairs of one whole run", async () => {
    const policy = () =>
      new ScriptedPolicy(({ round, textOnly }) =>
        textOnly ? "\\boxed{2}" : respond("FAITHFUL", round === 0 ? "1" : "2"),
      );
    const samples = Array.from({ length: 60 }, (_, i) => sample(`s-${i}`, "2"));
    const dir = await tempDir();
    const run = async (out: string, shard?: { index: number; count: number }) => {
      await new RefinementEngine({ policy: policy() }).run({ samples, out: path.join(dir, out), shard });
      return readLines<PreferencePair>(path.join(dir, out));
    };
    const whole = await run("all.jsonl");
    const a = await run("a.jsonl", { index: 0, count: 2 });
    const b = await run("b.jsonl", { index: 1, count: 2 });
    expect(a.length).toBeGreaterThan(0);
    expect(b.length).toBeGreaterThan(0);
    const ids = (ps: PreferencePair[]) => ps.map((p) => p.id).sort();
    expect(ids([...a, ...b])).toEqual(ids(whole));
    expect(ids(a).filter((id) => ids(b).includes(id))).toEqual([]);
  });
});
