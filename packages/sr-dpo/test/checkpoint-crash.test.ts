import {
  appendFileSync,
  cpSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { MetricsRow } from "@sr2se/core";
import { optim } from "@sr2se/tensor";
import { describe, expect, it } from "vitest";
import { SrDpoTrainer } from "../src/tensor.js";
import { snapshot, syntheticPairs, ToyLM } from "./toy-lm.js";

function setup() {
  const dir = mkdtempSync(path.join(tmpdir(), "sr-dpo-crash-"));
  const pairs = path.join(dir, "pairs.jsonl");
  writeFileSync(
    pairs,
    `${syntheticPairs(20)
      .map((p) => JSON.stringify(p))
      .join("\n")}\n`,
  );
  const make = (seed: number, metricsFile: string) => {
    const policy = new ToyLM(seed);
    const optimizer = new optim.AdamW(policy.parameters(), { lr: 0.02, weightDecay: 0.01 });
    const trainer = new SrDpoTrainer({
      policy,
      reference: new ToyLM(3),
      optimizer,
      scheduler: new optim.LambdaLR(optimizer, optim.warmupCosine(2, 8)),
      pairs,
      loss: { beta: 0.2, alpha: 0.1 },
      batchSize: 6,
      gradientAccumulationSteps: 2,
      seed: 5,
      metricsFile,
    });
    return { policy, trainer };
  };
  return { dir, make };
}

const strip = (r: MetricsRow) => ({ ...r, seconds: 0 });
const logged = (file: string) =>
  readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .map((l) => strip(JSON.parse(l)));

// writeDirAtomic names its folders `.NAME.tmp-PID-HEX` (the new checkpoint being written) and
// `.NAME.old-PID-HEX` (the previous one, moved aside); each test lays out what a kill leaves.
describe("SR-DPO checkpoints after a kill during the save", () => {
  it("killed between the swap's renames: resume continues from the new checkpoint, exactly", async () => {
    const { dir, make } = setup();
    const ckpt = path.join(dir, "ckpt");
    const a = make(3, path.join(dir, "a.jsonl"));
    const rowsA: MetricsRow[] = [];
    await a.trainer.train(7, { onStep: (r) => rowsA.push(r) });

    const b1 = make(3, path.join(dir, "b.jsonl"));
    await b1.trainer.train(3, { saveDir: ckpt });
    const step3 = path.join(dir, "step3");
    cpSync(ckpt, step3, { recursive: true });
    await b1.trainer.train(2, { saveDir: ckpt });
    // The kill: the step-5 checkpoint is whole in its temporary folder, the step-3 one moved aside,
    // nothing at `ckpt`; the log's last append was torn.
    renameSync(ckpt, path.join(dir, ".ckpt.tmp-4242-0a1b2c3d"));
    renameSync(step3, path.join(dir, ".ckpt.old-4242-0a1b2c3d"));
    appendFileSync(path.join(dir, "b.jsonl"), '{"step":6,"loss":0.6');

    const b2 = make(77, path.join(dir, "b.jsonl"));
    await b2.trainer.resume(ckpt);
    expect(b2.trainer.step).toBe(5);
    expect(readdirSync(dir).filter((n) => n.includes("ckpt"))).toEqual(["ckpt"]);
    await b2.trainer.train(2);
    expect(await snapshot(b2.policy)).toEqual(await snapshot(a.policy));
    expect(logged(path.join(dir, "b.jsonl"))).toEqual(rowsA.map(strip));
  });

  it("killed while writing the new checkpoint: resume continues from the old one, exactly", async () => {
    const { dir, make } = setup();
    const ckpt = path.join(dir, "ckpt");
    const a = make(3, path.join(dir, "a.jsonl"));
    const rowsA: MetricsRow[] = [];
    await a.trainer.train(5, { onStep: (r) => rowsA.push(r) });

    const b1 = make(3, path.join(dir, "b.jsonl"));
    await b1.trainer.train(3, { saveDir: ckpt });
    const partial = path.join(dir, "partial");
    await b1.trainer.train(1, { saveDir: partial });
    rmSync(path.join(partial, "trainer_state.json"));
    renameSync(partial, path.join(dir, ".ckpt.tmp-4242-0a1b2c3d"));

    const b2 = make(77, path.join(dir, "b.jsonl"));
    await b2.trainer.resume(ckpt);
    expect(b2.trainer.step).toBe(3);
    expect(readdirSync(dir).filter((n) => n.includes("ckpt"))).toEqual(["ckpt"]);
    await b2.trainer.train(2);
    expect(await snapshot(b2.policy)).toEqual(await snapshot(a.policy));
    expect(logged(path.join(dir, "b.jsonl"))).toEqual(rowsA.map(strip));
  });
});
