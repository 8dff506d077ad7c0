import { describe, expect, it } from "vitest";
import { dpoLoss, RunningMean, weightsFromRewardGap } from "../src/index.js";

const batch = {
  policyChosen: [-10, -20],
  policyRejected: [-11, -19],
  referenceChosen: [-10.5, -20.5],
  referenceRejected: [-10.5, -19.5],
};

describe("dpoLoss refuses bad input with the field and index named", () => {
  it("a NaN log-prob", () => {
    expect(() => dpoLoss({ ...batch, referenceChosen: [-1, Number.NaN] })).toThrow(
      "dpoLoss: batch.referenceChosen[1] is NaN, not a finite number",
    );
  });
  it("arrays of different lengths", () => {
    expect(() => dpoLoss({ ...batch, policyRejected: [-1] })).toThrow(
      "dpoLoss: batch.policyRejected has 1 values but batch.policyChosen has 2",
    );
  });
  it("an empty batch", () => {
    expect(() =>
      dpoLoss({ policyChosen: [], policyRejected: [], referenceChosen: [], referenceRejected: [] }),
    ).toThrow("the batch is empty");
  });
  it("missing references unless referenceFree", () => {
    expect(() => dpoLoss({ policyChosen: [-1], policyRejected: [-2] })).toThrow("referenceFree");
    expect(dpoLoss({ policyChosen: [-1], policyRejected: [-2] }, { referenceFree: true }).loss).toBeCloseTo(
      -Math.log(1 / (1 + Math.exp(-0.1))),
      12,
    );
  });
  it("an unknown loss type, listing the known ones", () => {
    expect(() => dpoLoss(batch, { lossType: "kto_pair" as never })).toThrow(
      /"kto_pair" is unknown; use one of sigmoid, robust/,
    );
  });
  it("lossWeights that do not match the loss types", () => {
    expect(() => dpoLoss(batch, { lossType: ["sigmoid", "ipo"], lossWeights: [1] })).toThrow(
      "options.lossWeights has 1 weights for 2 loss types",
    );
  });
  it("beta <= 0 and robust with labelSmoothing >= 0.5", () => {
    expect(() => dpoLoss(batch, { beta: 0 })).toThrow("options.beta is 0");
    expect(() => dpoLoss(batch, { lossType: "robust", labelSmoothing: 0.5 })).toThrow("must be < 0.5");
  });
  it("ipo or the NLL term without completion lengths", () => {
    expect(() => dpoLoss(batch, { lossType: "ipo" })).toThrow(
      "batch.chosenLengths and batch.rejectedLengths are required",
    );
    expect(() => dpoLoss(batch, { alpha: 1 })).toThrow("batch.chosenLengths is required");
    expect(() => dpoLoss({ ...batch, chosenLengths: [3, 0] }, { alpha: 1 })).toThrow(
      "batch.chosenLengths[1] is 0: a completion length must be > 0",
    );
  });
  it("a negative pair weight", () => {
    expect(() => dpoLoss({ ...batch, weights: [1, -1] })).toThrow(
      "batch.weights[1] is -1: a pair weight must be >= 0",
    );
  });
});

describe("SR-DPO options", () => {
  it("pair weights scale each pair's preference loss", () => {
    const plain = dpoLoss(batch);
    const weighted = dpoLoss({ ...batch, weights: [2, 0] });
    expect(weighted.losses[0]).toBeCloseTo(2 * plain.losses[0], 14);
    expect(weighted.losses[1]).toBe(0);
    expect(weighted.grad.policyChosen[1]).toBe(0);
  });
  it("the NLL term raises the chosen log-prob: its gradient is −alpha / total chosen tokens", () => {
    const lengths = { chosenLengths: [4, 6], rejectedLengths: [5, 5] };
    const plain = dpoLoss({ ...batch, ...lengths });
    const rpo = dpoLoss({ ...batch, ...lengths }, { alpha: 2 });
    expect(rpo.metrics.nll_loss).toBeCloseTo(30 / 10, 14);
    expect(rpo.grad.policyChosen[0] - plain.grad.policyChosen[0]).toBeCloseTo(-2 / 10, 14);
    expect(rpo.grad.policyRejected).toEqual(plain.grad.policyRejected);
  });
  it("weightsFromRewardGap averages 1 and favours larger gaps", () => {
    const w = weightsFromRewardGap([0, 1, 2], { temperature: 0.5 });
    expect(w.reduce((s, v) => s + v, 0)).toBeCloseTo(3, 12);
    expect(w[2]).toBeGreaterThan(w[1]);
    expect(w[1]).toBeGreaterThan(w[0]);
    expect(Array.from(weightsFromRewardGap([5, 5]))).toEqual([1, 1]);
    expect(() => weightsFromRewardGap([1], { temperature: 0 })).toThrow("options.temperature is 0");
  });
  it("RunningMean is the mean of the batch means it was given, as TRL's RunningMoments", () => {
    const m = new RunningMean();
    m.update(1);
    m.update(2);
    expect(m.update(6)).toBe(3);
    const copy = new RunningMean();
    copy.load(m.state());
    expect(copy.update(3)).toBe(3);
  });
});
