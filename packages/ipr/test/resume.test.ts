import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { PreferencePair } from "@sr2se/core";
import { describe, expect, it } from "vitest";
import type { RefinementStatistics, SampleOutcome } from "../src/index.js";
import { readLines, tempDir } from "./helpers.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const child = path.join(here, "fixtures", "refine-child.mjs");
const N = 400;

function run(
  out: string,
  delayMs: number,
): { done: Promise<{ code: number | null; stdout: string }>; kill: () => void } {
  const proc = spawn(process.execPath, [child, out, String(N), String(delayMs)], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  proc.stdout.on("data", (c) => {
    stdout += c;
  });
  proc.stderr.on("data", (c) => {
    stderr += c;
  });
  const done = new Promise<{ code: number | null; stdout: string }>((resolve, reject) => {
    proc.on("error", reject);
    proc.on("close", (code, signal) => {
      if (code !== 0 && signal !== "SIGKILL") reject(new Error(`child exited ${code}: ${stderr}`));
      else resolve({ code, stdout });
    });
  });
  return { done, kill: () => proc.kill("SIGKILL") };
}

async function lineCount(file: string): Promise<number> {
  try {
    return (await readFile(file, "utf8")).split("\n").filter((l) => l !== "").length;
  } catch {
    return 0;
  }
}

describe("resume after SIGKILL", () => {
  it("a killed run, rerun, holds exactly the pairs and statistics of an uninterrupted run, no duplicates", async () => {
    // the child runs the built package, as a user's process would
    if (!existsSync(path.join(here, "..", "dist", "index.js")))
      throw new Error("build @sr2se/ipr first (npm run build -w @sr2se/ipr)");
    const dir = await tempDir();
    const out = path.join(dir, "killed", "pairs.jsonl");
    const ledger = path.join(dir, "killed", "pairs.outcomes.jsonl");
    const { mkdir } = await import("node:fs/promises");
    await mkdir(path.dirname(out), { recursive: true });

    const first = run(out, 2);
    const deadline = Date.now() + 30_000;
    while ((await lineCount(ledger)) < 60 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    first.kill();
    await first.done;
    const before = await lineCount(ledger);
    expect(before).toBeGreaterThanOrEqual(60);
    expect(before).toBeLessThan(N);

    const second = await run(out, 0).done;
    const resumed = JSON.parse(second.stdout) as RefinementStatistics;
    expect(resumed.resumed).toBeGreaterThanOrEqual(before);

    const refOut = path.join(dir, "whole", "pairs.jsonl");
    await mkdir(path.dirname(refOut), { recursive: true });
    const whole = JSON.parse((await run(refOut, 0).done).stdout) as RefinementStatistics;

    const pairs = await readLines<PreferencePair>(out);
    const refPairs = await readLines<PreferencePair>(refOut);
    expect(new Set(pairs.map((p) => p.id)).size).toBe(pairs.length);
    const byId = (a: PreferencePair, b: PreferencePair) => a.id.localeCompare(b.id);
    expect(pairs.sort(byId)).toEqual(refPairs.sort(byId));
    expect(pairs.length).toBe(N / 2);

    const outcomes = await readLines<SampleOutcome>(ledger);
    expect(outcomes.length).toBe(N);
    expect(new Set(outcomes.map((o) => o.id)).size).toBe(N);

    for (const key of [
      "samples",
      "outcomes",
      "pairs",
      "per_round",
      "tokens",
      "format_failures",
      "self_reward",
    ] as const) {
      expect(resumed[key], key).toEqual(whole[key]);
    }
  });
});
