import { describe, expect, it } from "vitest";
import { type DpoLossOptions, dpoLoss, type LossType, PAIR_LOSS_TYPES } from "../src/index.js";

const BETAS = [0.001, 0.01, 0.1, 1, 10];
const Z = [-1000, -700, -100, -1, 0, 1, 100, 700, 1000]; // values of β·(log-ratio)

function allFinite(values: ArrayLike<number>): boolean {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return false;
  return true;
}

describe("no NaN or Inf for |β·Δ| up to 1000 and β from 0.001 to 10", () => {
  const variants: [string, DpoLossOptions][] = [
    ...PAIR_LOSS_TYPES.map((t): [string, DpoLossOptions] => [t, { lossType: t }]),
    ["sigmoid ε=0.3", { lossType: "sigmoid", labelSmoothing: 0.3 }],
    ["robust ε=0.49", { lossType: "robust", labelSmoothing: 0.49 }],
    ["exo_pair ε=0.3", { lossType: "exo_pair", labelSmoothing: 0.3 }],
    ["discopop τ=0.5", { lossType: "discopop", discopopTau: 0.5 }],
    ["all combined + sft + alpha", { lossType: [...PAIR_LOSS_TYPES, "sft"] as LossType[], alpha: 1 }],
  ];
  it.each(variants)("%s", (_name, options) => {
    for (const beta of BETAS) {
      // Every (chosen, rejected) log-ratio combination on the grid, one pair each.
      const pc: number[] = [];
      const pr: number[] = [];
      for (const zc of Z) {
        for (const zr of Z) {
          if (Math.abs(zc - zr) > 1000) continue; // |β·Δ| ≤ 1000
          pc.push(zc / beta - 50);
          pr.push(zr / beta - 50);
        }
      }
      const ref = pc.map(() => -50);
      const lengths = pc.map(() => 1);
      const r = dpoLoss(
        {
          policyChosen: pc,
          policyRejected: pr,
          referenceChosen: ref,
          referenceRejected: ref,
          chosenLengths: lengths,
          rejectedLengths: lengths,
        },
        { ...options, beta },
      );
      const where = `β=${beta}`;
      expect(Number.isFinite(r.loss), where).toBe(true);
      expect(allFinite(r.losses), where).toBe(true);
      expect(allFinite(r.grad.policyChosen), where).toBe(true);
      expect(allFinite(r.grad.policyRejected), where).toBe(true);
      expect(allFinite(r.chosenRewards) && allFinite(r.rejectedRewards), where).toBe(true);
      expect(allFinite(Object.values(r.metrics)), where).toBe(true);
    }
  });

  it("keeps the sigmoid loss exact in the tails (log σ via softplus)", () => {
    const r = dpoLoss(
      {
        policyChosen: [-1000, 1000],
        policyRejected: [0, 0],
        referenceChosen: [0, 0],
        referenceRejected: [0, 0],
      },
      { beta: 1 },
    );
    expect(r.losses[0]).toBe(1000);
    expect(r.losses[1]).toBe(0);
    expect(r.grad.policyChosen[0]).toBe(-0.5); // −σ(1000)·β / N
  });

  it("gives DiscoPOP's finite value where TRL's exp(−z)·σ(z/τ) is Inf·0 = NaN", () => {
    const r = dpoLoss(
      { policyChosen: [-800], policyRejected: [0] },
      { beta: 1, referenceFree: true, lossType: "discopop" },
    );
    expect(r.loss).toBe(800);
    expect(r.grad.policyChosen[0]).toBe(-1);
    expect(r.grad.policyRejected[0]).toBe(1);
  });
});
