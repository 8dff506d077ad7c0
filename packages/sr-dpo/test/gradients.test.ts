import { describe, expect, it } from "vitest";
import { type DpoLossOptions, dpoLoss, PAIR_LOSS_TYPES, type PreferenceBatch } from "../src/index.js";

// A small deterministic generator so the batches are the same on every run.
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function randomBatch(
  seed: number,
  n: number,
): PreferenceBatch & { policyChosen: Float64Array; policyRejected: Float64Array } {
  const rand = lcg(seed);
  const col = (f: () => number) => Float64Array.from({ length: n }, f);
  const base = col(() => -20 - 40 * rand());
  return {
    policyChosen: base.map((v) => v + 12 * (rand() - 0.5)),
    policyRejected: base.map((v) => v + 12 * (rand() - 0.5)),
    referenceChosen: base.map((v) => v + 12 * (rand() - 0.5)),
    referenceRejected: base.map((v) => v + 12 * (rand() - 0.5)),
    chosenLengths: col(() => 1 + Math.floor(9 * rand())),
    rejectedLengths: col(() => 1 + Math.floor(9 * rand())),
    weights: col(() => 2 * rand()),
  };
}

/** Checks the closed-form gradient against central differences in float64. */
function checkGradient(batch: ReturnType<typeof randomBatch>, options: DpoLossOptions): void {
  const { grad } = dpoLoss(batch, options);
  for (const field of ["policyChosen", "policyRejected"] as const) {
    for (let i = 0; i < batch[field].length; i++) {
      const x = batch[field][i];
      const h = 1e-5 * Math.max(1, Math.abs(x));
      const plus = Float64Array.from(batch[field]);
      const minus = Float64Array.from(batch[field]);
      plus[i] = x + h;
      minus[i] = x - h;
      const fd =
        (dpoLoss({ ...batch, [field]: plus }, options).loss -
          dpoLoss({ ...batch, [field]: minus }, options).loss) /
        (2 * h);
      const tol = 1e-6 * Math.max(1, Math.abs(fd));
      if (!(Math.abs(grad[field][i] - fd) <= tol)) {
        throw new Error(
          `${JSON.stringify(options)}: grad.${field}[${i}] = ${grad[field][i]}, finite difference ${fd}`,
        );
      }
    }
  }
}

describe("closed-form gradients against float64 finite differences", () => {
  it.each(PAIR_LOSS_TYPES.map((t) => [t]))("%s", (lossType) => {
    for (const [seed, beta] of [
      [1, 0.1],
      [2, 0.5],
      [3, 2],
    ] as const) {
      const batch = randomBatch(seed * 31 + lossType.length, 7);
      // hinge has a kink at βΔ = 1; move pairs off it so the difference quotient is defined.
      // bco_pair's default δ is a detached batch statistic: fix it, or the difference quotient sees it move.
      const bcoDelta = lossType === "bco_pair" ? 0.3 : undefined;
      checkGradient(batch, { lossType, beta, labelSmoothing: lossType === "hinge" ? 0 : 0.1, bcoDelta });
    }
  });

  it("with referenceFree", () => {
    for (const lossType of PAIR_LOSS_TYPES)
      checkGradient(randomBatch(11, 5), { lossType, beta: 0.2, referenceFree: true, bcoDelta: -0.1 });
  });

  it("of a weighted combination with sft, pair weights and the NLL term", () => {
    checkGradient(randomBatch(12, 6), {
      lossType: ["sigmoid", "apo_zero", "sft", "discopop"],
      lossWeights: [0.7, 0.5, 0.3, 0.2],
      beta: 0.3,
      alpha: 0.8,
    });
  });

  it("with per-token averaging (ipo) chained through 1/length", () => {
    checkGradient(randomBatch(13, 6), { lossType: ["ipo", "sigmoid"], beta: 0.4, alpha: 0.1 });
    checkGradient(randomBatch(14, 6), { lossType: "sigmoid", beta: 0.4, averageLogProbs: true });
  });

  it("of bco_pair, whose default δ is the batch mean held constant as TRL detaches it", () => {
    const batch = randomBatch(15, 6);
    const { grad } = dpoLoss(batch, { lossType: "bco_pair", beta: 0.3 });
    // The same δ passed explicitly gives the same gradient, and that one matches finite differences.
    const a = Array.from(batch.policyChosen, (v, i) => v - (batch.referenceChosen as Float64Array)[i]);
    const b = Array.from(batch.policyRejected, (v, i) => v - (batch.referenceRejected as Float64Array)[i]);
    const delta = (0.3 * [...a, ...b].reduce((s, v) => s + v, 0)) / 12;
    checkGradient(batch, { lossType: "bco_pair", beta: 0.3, bcoDelta: delta });
    expect(
      Array.from(dpoLoss(batch, { lossType: "bco_pair", beta: 0.3, bcoDelta: delta }).grad.policyChosen),
    ).toEqual(Array.from(grad.policyChosen));
  });
});
