import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { type DpoLossOptions, dpoLoss, type PreferenceBatch } from "../src/index.js";

interface GoldenCase {
  name: string;
  options: DpoLossOptions;
  batch: PreferenceBatch;
  expected: {
    loss: number;
    losses: number[];
    chosenRewards: number[];
    rejectedRewards: number[];
    metrics: Record<string, number>;
    grad: { policyChosen: number[]; policyRejected: number[] };
  };
}

const fixture = JSON.parse(readFileSync(new URL("./fixtures/trl-golden.json", import.meta.url), "utf8")) as {
  cases: GoldenCase[];
};

function close(actual: number, expected: number, what: string): void {
  const tol = 1e-9 * Math.max(1, Math.abs(expected));
  if (!(Math.abs(actual - expected) <= tol)) {
    throw new Error(`${what}: got ${actual}, TRL gives ${expected}`);
  }
}

function allClose(actual: ArrayLike<number>, expected: number[], what: string): void {
  expect(actual.length, what).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) close(actual[i], expected[i], `${what}[${i}]`);
}

describe("dpoLoss matches TRL's dpo_loss (golden values from PyTorch)", () => {
  it("covers every loss type the trainer offers", () => {
    const types = new Set(fixture.cases.flatMap((c) => [c.options.lossType ?? "sigmoid"].flat()));
    for (const t of [
      "sigmoid",
      "robust",
      "ipo",
      "hinge",
      "exo_pair",
      "nca_pair",
      "sppo_hard",
      "apo_zero",
      "apo_down",
      "discopop",
      "bco_pair",
      "sft",
    ]) {
      expect(types.has(t as never), t).toBe(true);
    }
  });

  it.each(fixture.cases.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    const r = dpoLoss(c.batch, c.options);
    close(r.loss, c.expected.loss, "loss");
    allClose(r.losses, c.expected.losses, "losses");
    allClose(r.chosenRewards, c.expected.chosenRewards, "chosenRewards");
    allClose(r.rejectedRewards, c.expected.rejectedRewards, "rejectedRewards");
    allClose(r.grad.policyChosen, c.expected.grad.policyChosen, "grad.policyChosen");
    allClose(r.grad.policyRejected, c.expected.grad.policyRejected, "grad.policyRejected");
    expect(Object.keys(r.metrics).sort()).toEqual(Object.keys(c.expected.metrics).sort());
    for (const [k, v] of Object.entries(c.expected.metrics)) {
      close(r.metrics[k as keyof typeof r.metrics] as number, v, `metrics["${k}"]`);
    }
  });
});
