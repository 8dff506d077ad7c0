import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { MetricsRow } from "@sr2se/core";
import { memory, noGrad, optim } from "@sr2se/tensor";
import { describe, expect, it } from "vitest";
import { dpoLoss } from "../src/index.js";
import { precomputeReferenceLogProbs, SrDpoTrainer } from "../src/tensor.js";
import { snapshot, syntheticPairs, ToyLM } from "./toy-lm.js";

function tmp(): string {
  return mkdtempSync(path.join(tmpdir(), "sr-dpo-trainer-"));
}

function writePairs(dir: string, count: number): string {
  const file = path.join(dir, "pairs.jsonl");
  writeFileSync(
    file,
    `${syntheticPairs(count)
      .map((p) => JSON.stringify(p))
      .join("\n")}\n`,
  );
  return file;
}

/** Scores every pair with policy and reference and returns dpoLoss's metrics over all of them. */
async function evaluate(policy: ToyLM, reference: ToyLM, count: number) {
  const pairs = syntheticPairs(count);
  const requests = [
    ...pairs.map((pair) => ({ prompt: pair.prompt, completion: pair.chosen, pair, side: "chosen" as const })),
    ...pairs.map((pair) => ({
      prompt: pair.prompt,
      completion: pair.rejected,
      pair,
      side: "rejected" as const,
    })),
  ];
  const p = Array.from(
    (await noGrad(() => policy.sequenceLogProbs(requests)).sum.data()) as ArrayLike<number>,
  );
  const r = Array.from(
    (await noGrad(() => reference.sequenceLogProbs(requests)).sum.data()) as ArrayLike<number>,
  );
  const n = pairs.length;
  const result = dpoLoss({
    policyChosen: p.slice(0, n),
    policyRejected: p.slice(n),
    referenceChosen: r.slice(0, n),
    referenceRejected: r.slice(n),
  });
  const chosenMargin = p.slice(0, n).reduce((s, v, i) => s + v - r[i], 0) / n;
  return { metrics: result.metrics, chosenMargin };
}

describe("SrDpoTrainer on a toy language model", () => {
  it("takes async scorers (a model that decodes images first): the same rows as synchronous ones", async () => {
    const run = async (wrap: boolean) => {
      const dir = tmp();
      const policy = new ToyLM(1);
      const reference = new ToyLM(1);
      for (const p of reference.parameters()) p.requiresGrad = false;
      const later = <T>(fn: () => T) => new Promise<T>((resolve) => setTimeout(() => resolve(fn()), 1));
      const asyncOf = (m: ToyLM) => ({
        parameters: () => m.parameters(),
        sequenceLogProbs: (r: Parameters<ToyLM["sequenceLogProbs"]>[0]) => later(() => m.sequenceLogProbs(r)),
      });
      const trainer = new SrDpoTrainer({
        policy: wrap ? asyncOf(policy) : policy,
        reference: wrap ? asyncOf(reference) : reference,
        optimizer: new optim.AdamW(policy.parameters(), { lr: 0.01, weightDecay: 0 }),
        pairs: writePairs(dir, 16),
        batchSize: 4,
      });
      const rows = [];
      for (let i = 0; i < 3; i++) rows.push(await trainer.trainStep());
      return rows.map(({ seconds, ...r }) => r);
    };
    expect(await run(true)).toEqual(await run(false));
  });

  it("a few hundred SR-DPO steps raise rewards/accuracies above 0.9 and the chosen log-probs above the reference, reference untouched", async () => {
    const dir = tmp();
    const policy = new ToyLM(1);
    const reference = new ToyLM(1);
    const before = await snapshot(reference);
    expect(await snapshot(policy)).toEqual(before);
    const start = await evaluate(policy, reference, 32);
    expect(start.metrics["rewards/accuracies"]).toBe(0);

    const metricsFile = path.join(dir, "logs", "sr-dpo.jsonl");
    const trainer = new SrDpoTrainer({
      policy,
      reference,
      optimizer: new optim.AdamW(policy.parameters(), { lr: 0.01, weightDecay: 0 }),
      pairs: writePairs(dir, 32),
      loss: { beta: 0.1, alpha: 0.2 },
      batchSize: 8,
      gradientAccumulationSteps: 2,
      maxGradNorm: 1,
      metricsFile,
    });
    const { steps, stopped, last } = await trainer.train(300);
    expect(steps).toBe(300);
    expect(stopped).toBeNull();

    const end = await evaluate(policy, reference, 32);
    expect(end.metrics["rewards/accuracies"]).toBeGreaterThan(0.9);
    expect(end.chosenMargin).toBeGreaterThan(0);
    expect(last?.["rewards/accuracies"]).toBeGreaterThan(0.9);
    expect(await snapshot(reference)).toEqual(before);
    for (const p of reference.parameters()) expect(p.grad).toBeNull();

    const rows = readFileSync(metricsFile, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as MetricsRow);
    expect(rows.map((r) => r.step)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    for (const key of [
      "loss",
      "rewards/chosen",
      "rewards/rejected",
      "rewards/accuracies",
      "rewards/margins",
      "logps/chosen",
      "logps/rejected",
      "nll_loss",
      "logps/ref_chosen",
      "logratios/chosen",
      "grad_norm",
      "learning_rate",
    ]) {
      expect(rows[0], key).toHaveProperty(key);
    }
    expect(rows[0].pairs).toBe(16);
    expect(rows[299]["rewards/margins"] as number).toBeGreaterThan(rows[0]["rewards/margins"] as number);
  });

  it("resumes exactly from a checkpoint: the same parameters and metrics as an uninterrupted run", async () => {
    const dir = tmp();
    const pairs = writePairs(dir, 20);
    const make = (seed: number, metricsFile: string) => {
      const policy = new ToyLM(seed);
      const optimizer = new optim.AdamW(policy.parameters(), { lr: 0.02, weightDecay: 0.01 });
      const scheduler = new optim.LambdaLR(optimizer, optim.warmupCosine(2, 6));
      const trainer = new SrDpoTrainer({
        policy,
        reference: new ToyLM(3),
        optimizer,
        scheduler,
        pairs,
        loss: { beta: 0.2, lossType: ["sigmoid", "bco_pair"], alpha: 0.1 },
        batchSize: 6,
        gradientAccumulationSteps: 2,
        maxGradNorm: 0.5,
        seed: 9,
        metricsFile,
      });
      return { policy, trainer };
    };
    const strip = (r: MetricsRow) => ({ ...r, seconds: 0 });

    const a = make(3, path.join(dir, "a.jsonl"));
    const rowsA: MetricsRow[] = [];
    await a.trainer.train(6, { onStep: (r) => rowsA.push(r) });

    const b1 = make(3, path.join(dir, "b.jsonl"));
    await b1.trainer.train(3, { saveDir: path.join(dir, "ckpt") });
    await b1.trainer.trainStep(); // a step after the checkpoint, logged, then lost in the "crash"
    const b2 = make(77, path.join(dir, "b.jsonl")); // other initial weights: all must come from the checkpoint
    await b2.trainer.resume(path.join(dir, "ckpt"));
    expect(b2.trainer.step).toBe(3);
    const rowsB: MetricsRow[] = [];
    await b2.trainer.train(3, { onStep: (r) => rowsB.push(r) });

    expect(await snapshot(b2.policy)).toEqual(await snapshot(a.policy));
    expect(rowsB.map(strip)).toEqual(rowsA.slice(3).map(strip));
    const logged = readFileSync(path.join(dir, "b.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => strip(JSON.parse(l)));
    expect(logged).toEqual(rowsA.map(strip));
    for (const f of ["model.safetensors", "optimizer.safetensors", "trainer_state.json", "config.json"]) {
      expect(() => readFileSync(path.join(dir, "ckpt", f)), f).not.toThrow();
    }
  });

  it("leaves the live tensor count flat over training steps, checkpoints and resumes", async () => {
    const dir = tmp();
    const policy = new ToyLM(6);
    const trainer = new SrDpoTrainer({
      policy,
      reference: new ToyLM(6),
      optimizer: new optim.AdamW(policy.parameters(), { lr: 0.01 }),
      pairs: writePairs(dir, 16),
      loss: { lossType: ["sigmoid", "bco_pair", "ipo"], alpha: 0.1 },
      gradientAccumulationSteps: 2,
    });
    await trainer.train(3);
    const live = memory();
    await trainer.train(20, { saveDir: path.join(dir, "ckpt"), saveEvery: 10 });
    await trainer.resume(path.join(dir, "ckpt"));
    await trainer.train(3);
    expect(memory()).toEqual(live);
  });

  it("with reference log-probs precomputed into the pairs, trains like with the reference model", async () => {
    const dir = tmp();
    const file = writePairs(dir, 12);
    const stored = path.join(dir, "pairs.ref.jsonl");
    expect(await precomputeReferenceLogProbs(new ToyLM(5), file, stored, { batchSize: 5 })).toBe(12);
    const line = JSON.parse(readFileSync(stored, "utf8").split("\n")[0]);
    expect(typeof line.meta.ref_chosen_logps).toBe("number");

    const run = async (withModel: boolean) => {
      const policy = new ToyLM(2);
      const trainer = new SrDpoTrainer({
        policy,
        reference: withModel ? new ToyLM(5) : undefined,
        optimizer: new optim.SGD(policy.parameters(), { lr: 0.1 }),
        pairs: withModel ? file : stored,
        batchSize: 4,
      });
      const rows: MetricsRow[] = [];
      await trainer.train(3, { onStep: (r) => rows.push({ ...r, seconds: 0 }) });
      return rows;
    };
    const viaModel = await run(true);
    const viaStored = await run(false);
    expect(viaStored.length).toBe(3);
    viaStored.forEach((row, i) => {
      for (const [k, v] of Object.entries(row)) {
        if (typeof v === "number") expect(v, `step ${i + 1} ${k}`).toBeCloseTo(viaModel[i][k] as number, 4);
      }
    });
  });

  it("the likelihood guard stops a run whose chosen log-probs fall below the reference", async () => {
    const dir = tmp();
    const policy = new ToyLM(4);
    const warnings: string[] = [];
    const trainer = new SrDpoTrainer({
      policy,
      reference: new ToyLM(4),
      optimizer: new optim.AdamW(policy.parameters(), { lr: 0.05, weightDecay: 0 }),
      pairs: writePairs(dir, 16),
      loss: { beta: 0.1, lossType: "apo_down" }, // pushes the chosen likelihood down on purpose
      likelihoodGuard: { maxDropPerToken: 0.05, action: "stop", onWarn: (m) => warnings.push(m) },
    });
    const { steps, stopped, last } = await trainer.train(200);
    expect(steps).toBeLessThan(200);
    expect(stopped).toMatch(/the chosen log-probs fell more than 0.05 nats per token below the reference/);
    expect(last?.["guard/chosen_below_reference"]).toBe(true);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/likelihood displacement/);
  });

  it("applies SR-DPO pair weights from meta.weight: weight 0 everywhere leaves the policy unchanged", async () => {
    const dir = tmp();
    const file = path.join(dir, "pairs.jsonl");
    const pairs = syntheticPairs(8).map((p) => ({ ...p, meta: { weight: 0 } }));
    writeFileSync(file, pairs.map((p) => JSON.stringify(p)).join("\n"));
    const policy = new ToyLM(8);
    const before = await snapshot(policy);
    const trainer = new SrDpoTrainer({
      policy,
      reference: new ToyLM(9),
      optimizer: new optim.SGD(policy.parameters(), { lr: 0.5 }),
      pairs: file,
      batchSize: 8,
    });
    const row = await trainer.trainStep();
    expect(row.loss).toBe(0);
    expect(row.grad_norm).toBe(0);
    expect(await snapshot(policy)).toEqual(before);
    // The same pairs with weight 2 move the policy.
    writeFileSync(file, pairs.map((p) => JSON.stringify({ ...p, meta: { weight: 2 } })).join("\n"));
    const weighted = new SrDpoTrainer({
      policy,
      reference: new ToyLM(9),
      optimizer: new optim.SGD(policy.parameters(), { lr: 0.5 }),
      pairs: file,
      batchSize: 8,
    });
    expect((await weighted.trainStep()).loss).toBeGreaterThan(0);
    expect(await snapshot(policy)).not.toEqual(before);
  });

  it("names the file and line of a pair without reference log-probs when there is no reference model", async () => {
    const dir = tmp();
    const policy = new ToyLM(1);
    const trainer = new SrDpoTrainer({
      policy,
      optimizer: new optim.SGD(policy.parameters(), { lr: 0.1 }),
      pairs: writePairs(dir, 4),
      shuffle: false,
    });
    await expect(trainer.trainStep()).rejects.toThrow(
      /pairs\.jsonl:1: pair "p-0" has no meta\.ref_chosen_logps/,
    );
  });
});
