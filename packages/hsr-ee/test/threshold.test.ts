import { describe, expect, it } from "vitest";
import { chooseThreshold, type StepOutcome } from "../src/index.js";

/** A question whose early step has confidence c and correctness early; the deep step is right with `deep`. */
const q = (c: number, early: boolean, deep = true): StepOutcome[] => [
  { confidence: c, correct: early, tokens: 10 },
  { confidence: 1, correct: deep, tokens: 100 },
];

describe("chooseThreshold (--tau auto)", () => {
  it("picks the smallest τ whose exits cost no accuracy against always-deep", () => {
    // confident early answers are right, unsure ones wrong: any τ above 0.5 is free
    const t = [...Array(50)].flatMap(() => [q(0.9, true), q(0.3, false)]);
    const choice = chooseThreshold(t, { delta: 0.01 });
    expect(choice.tau).toBe(0.35);
    expect(choice.accuracy).toBe(1);
    expect(choice.meanTokens).toBe(55);
    expect(choice.deepTokens).toBe(100);
  });

  it("refuses a τ whose loss could exceed δ by the bootstrap's lower bound, though its point estimate is within", () => {
    // at τ ≤ 0.5 one question in 200 is lost: 0.5 points, within δ = 1 point as a point estimate,
    // but a resample holds that question three times often enough (Poisson(1) ≥ 3: 8%) for the bound to fall below −δ
    const t = [
      ...Array.from({ length: 100 }, () => q(0.9, true)),
      ...Array.from({ length: 99 }, () => q(0.5, true)),
      q(0.5, false),
    ];
    const choice = chooseThreshold(t, { delta: 0.01 });
    expect(choice.tau).toBe(0.55);
    expect(choice.lowerBound).toBeGreaterThanOrEqual(-0.01);
  });

  it("falls back to always-deep (τ = 1) when even the highest τ loses accuracy", () => {
    const t = Array.from({ length: 20 }, () => q(1, false));
    expect(chooseThreshold(t).tau).toBe(1);
  });
});
