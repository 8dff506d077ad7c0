import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  computeScore,
  descriptionFormatReward,
  extractBoxedContent,
  formatReward,
  gradeAnswer,
  normalizeAnswer,
  normalizeExpression,
} from "../src/index.js";

// Written by scripts/vision_sr1_golden.py from Vision-SR1's and MathRuler's own code.
const golden = JSON.parse(
  readFileSync(path.join(import.meta.dirname, "fixtures/vision-sr1-golden.json"), "utf8"),
) as {
  extract_boxed_content: { text: string; expected: string }[];
  normalize_answer: { input: string; expected: string }[];
  normalize: { input: string; expected: string }[];
  grade_answer: { given: string; ground_truth: string; expected: boolean }[];
  format_reward: { predict: string; expected: number }[];
  description_format_reward: { predict: string; expected: number }[];
  compute_score: {
    predict: string;
    ground_truth: string;
    description_answer: string;
    format_weight?: number;
    expected: Record<string, number>;
  }[];
};

describe("the reward matches Vision-SR1 and MathRuler on every fixture case", () => {
  it("extractBoxedContent is MathRuler's extract_boxed_content", () => {
    const got = golden.extract_boxed_content.map((c) => ({
      text: c.text,
      expected: extractBoxedContent(c.text),
    }));
    expect(got).toEqual(golden.extract_boxed_content);
  });

  it("normalizeAnswer is MathRuler's normalize_answer (the MATH normalisation)", () => {
    const got = golden.normalize_answer.map((c) => ({ input: c.input, expected: normalizeAnswer(c.input) }));
    expect(got).toEqual(golden.normalize_answer);
  });

  it("normalizeExpression is MathRuler's _normalize", () => {
    const got = golden.normalize.map((c) => ({ input: c.input, expected: normalizeExpression(c.input) }));
    expect(got).toEqual(golden.normalize);
  });

  // sympy keeps sqrt(2) exact beside a float and so never equates it with 2**0.5; this port
  // evaluates both in doubles (README: "Where the grader differs").
  const divergent = new Set([JSON.stringify(["2**0.5", "\\sqrt{2}"])]);

  it("gradeAnswer is MathRuler's grade_answer", () => {
    const cases = golden.grade_answer.filter(
      (c) => !divergent.has(JSON.stringify([c.given, c.ground_truth])),
    );
    expect(cases.length).toBe(golden.grade_answer.length - divergent.size);
    const got = cases.map((c) => ({ ...c, expected: gradeAnswer(c.given, c.ground_truth) }));
    expect(got).toEqual(cases);
  });

  it("gradeAnswer differs from sympy only on the listed float-versus-surd case", () => {
    for (const key of divergent) {
      const [given, truth] = JSON.parse(key) as [string, string];
      const official = golden.grade_answer.find((c) => c.given === given && c.ground_truth === truth);
      expect(gradeAnswer(given, truth)).toBe(!official?.expected);
    }
  });

  it("formatReward and descriptionFormatReward are Vision-SR1's format rewards", () => {
    expect(golden.format_reward.map((c) => ({ ...c, expected: formatReward(c.predict) }))).toEqual(
      golden.format_reward,
    );
    expect(
      golden.description_format_reward.map((c) => ({ ...c, expected: descriptionFormatReward(c.predict) })),
    ).toEqual(golden.description_format_reward);
  });

  it("computeScore is Vision-SR1's compute_score", () => {
    const got = golden.compute_score.map((c) => ({
      ...c,
      expected: computeScore(
        { response: c.predict, groundTruth: c.ground_truth, descriptionAnswer: c.description_answer },
        c.format_weight,
      ),
    }));
    expect(got).toEqual(golden.compute_score);
  });
});
