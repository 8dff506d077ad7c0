import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { accuracyTokenCurve, auroc, brierScore, exitStep, expectedCalibrationError } from "../src/index.js";

// From scripts/vision_sr1_golden.py: sklearn where it imports, else its plain-Python references
// (pairwise Mann–Whitney counting, 10-bin ECE, mean squared error); `sources.metrics` says which.
const golden = JSON.parse(
  readFileSync(path.join(import.meta.dirname, "fixtures/vision-sr1-golden.json"), "utf8"),
) as {
  metrics: { scores: number[]; labels: number[]; auroc: number; ece: number; brier: number }[];
};

describe("gate metrics match the reference on every fixture case", () => {
  for (const [i, c] of golden.metrics.entries()) {
    const labels = c.labels.map((y) => y === 1);
    it(`case ${i} (${c.scores.length} scores): AUROC, ECE and Brier`, () => {
      expect(auroc(c.scores, labels)).toBeCloseTo(c.auroc, 12);
      expect(expectedCalibrationError(c.scores, labels)).toBeCloseTo(c.ece, 12);
      expect(brierScore(c.scores, labels)).toBeCloseTo(c.brier, 12);
    });
  }
});

describe("gate metrics' edge cases", () => {
  it("AUROC counts ties one half and refuses a single outcome", () => {
    expect(auroc([0.5, 0.5], [true, false])).toBe(0.5);
    expect(() => auroc([0.1, 0.2], [true, true])).toThrow(
      "auroc: needs both outcomes, got 2 true and 0 false labels",
    );
  });

  it("ECE puts a confidence of 1 in the last bin", () => {
    expect(expectedCalibrationError([1, 1], [true, true])).toBe(0);
    expect(expectedCalibrationError([1, 0], [false, true])).toBe(1);
  });

  it("refuses mismatched lengths and confidences outside [0, 1], naming the value", () => {
    expect(() => brierScore([0.1], [true, false])).toThrow("brierScore: 1 values but 2 labels");
    expect(() => expectedCalibrationError([0.2, 1.5], [true, false])).toThrow(
      "expectedCalibrationError: value 1 is 1.5, not a number in [0, 1]",
    );
  });
});

describe("accuracyTokenCurve", () => {
  const easy = [
    { confidence: 0.9, correct: true, tokens: 3 },
    { confidence: 0.95, correct: true, tokens: 20 },
  ];
  const hard = [
    { confidence: 0.2, correct: false, tokens: 3 },
    { confidence: 0.6, correct: false, tokens: 25 },
    { confidence: 0.8, correct: true, tokens: 60 },
  ];

  it("exits at the first step whose confidence reaches τ, else at the last", () => {
    expect(exitStep(hard, 0.6)).toBe(1);
    expect(exitStep(hard, 0.99)).toBe(2);
    expect(exitStep(easy, 0)).toBe(0);
  });

  it("gives accuracy, mean tokens and mean exit step for each threshold", () => {
    expect(accuracyTokenCurve([easy, hard], [0, 0.5, 0.7, 1])).toEqual([
      { threshold: 0, accuracy: 0.5, meanTokens: 3, meanExitStep: 0 },
      { threshold: 0.5, accuracy: 0.5, meanTokens: 14, meanExitStep: 0.5 },
      { threshold: 0.7, accuracy: 1, meanTokens: 31.5, meanExitStep: 1 },
      { threshold: 1, accuracy: 1, meanTokens: 40, meanExitStep: 1.5 },
    ]);
  });

  it("refuses an empty trajectory, naming it", () => {
    expect(() => accuracyTokenCurve([easy, []], [0.5])).toThrow(
      "accuracyTokenCurve: trajectory 1 has no steps",
    );
  });
});
