import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Rng } from "@sr2se/core";
import { tensor } from "@sr2se/tensor";
import { describe, expect, it } from "vitest";
import { auroc } from "../src/index.js";
import {
  alwaysDeep,
  balancedBce,
  GateHead,
  probabilityGate,
  type TrialStep,
  trainGate,
} from "../src/tensor.js";

/** Synthetic trial answers whose rightness follows hidden[0] + the answer's probability, with noise. */
function synthetic(n: number, seed: string): { steps: TrialStep[]; correct: boolean[] } {
  const rng = new Rng(seed);
  const steps: TrialStep[] = [];
  const correct: boolean[] = [];
  for (let i = 0; i < n; i++) {
    const hidden = Float32Array.from({ length: 8 }, () => rng.next() * 2 - 1);
    const probability = rng.next();
    const step = Math.floor(rng.next() * 6);
    steps.push({
      step,
      part: step === 0 ? "answer" : step < 3 ? "description" : "think",
      answer: "1",
      closed: true,
      probability,
      meanProb: probability,
      minProb: probability,
      entropy: 1 - probability,
      firstProb: probability,
      firstEntropy: 1 - probability,
      at: 10 * step,
      tokens: 10 * step + 3,
      hidden,
    });
    correct.push(hidden[0] + probability - 0.5 + 0.1 * (rng.next() - 0.5) > 0.3);
  }
  return { steps, correct };
}

describe("the gate g_φ", () => {
  it("class-balanced BCE weighs each class half", async () => {
    const z = [0.5, -1, 2];
    const y = [true, false, false];
    // n/(2·n_c): the positive weighs 1.5, each negative 0.75
    const bce = (v: number, t: boolean) => Math.log1p(Math.exp(v)) - (t ? v : 0);
    const expected = (1.5 * bce(0.5, true) + 0.75 * bce(-1, false) + 0.75 * bce(2, false)) / 3;
    expect(await balancedBce(tensor(z), y).item()).toBeCloseTo(expected, 5);
  });

  it("learns which trial answers are right (held-out AUROC above 0.95)", async () => {
    const train = synthetic(400, "train");
    const test = synthetic(200, "test");
    const { gate } = await trainGate(train.steps, train.correct, { steps: 300 });
    const conf = await gate.confidences(test.steps);
    expect(conf.every((c) => c >= 0 && c <= 1)).toBe(true);
    expect(auroc(conf, test.correct)).toBeGreaterThan(0.95);
  });

  it("a linear probe is a gate too", async () => {
    const train = synthetic(300, "probe");
    const { gate } = await trainGate(train.steps, train.correct, { steps: 300, mlpHidden: 0 });
    expect(gate.fc2).toBeNull();
    expect(auroc(await gate.confidences(train.steps), train.correct)).toBeGreaterThan(0.9);
  });

  it("saves as a folder and loads to the same confidences", async () => {
    const train = synthetic(100, "save");
    const { gate } = await trainGate(train.steps, train.correct, { steps: 20, tau: 0.7 });
    const dir = join(await mkdtemp(join(tmpdir(), "gate-")), "gate");
    await gate.save(dir);
    const loaded = await GateHead.load(dir);
    expect(loaded.config.tau).toBe(0.7);
    const a = await gate.confidences(train.steps);
    const b = await loaded.confidences(train.steps);
    b.forEach((c, i) => {
      expect(c).toBeCloseTo(a[i], 6);
    });
  });

  it("loading a folder that is not a gate names the file", async () => {
    const dir = await mkdtemp(join(tmpdir(), "gate-"));
    await expect(GateHead.load(dir)).rejects.toThrow(`${join(dir, "config.json")}: not found`);
    await writeFile(join(dir, "config.json"), "{");
    await expect(GateHead.load(dir)).rejects.toThrow("config.json: not valid JSON");
  });

  it("the training-free gates: the answer's probability, and never", () => {
    const { steps } = synthetic(5, "free");
    expect(probabilityGate.confidences(steps)).toEqual(steps.map((s) => s.firstProb));
    expect(alwaysDeep.confidences(steps)).toEqual([0, 0, 0, 0, 0]);
  });
});
