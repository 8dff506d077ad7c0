import { describe, expect, it } from "vitest";
import { checkFormat, createAnswerChecker, type GoldAnswer, parseChoice, parseNumber } from "../src/index.js";

const check = createAnswerChecker();
const gold = (answer: string, answer_type: GoldAnswer["answer_type"], choices?: string[]): GoldAnswer => ({
  answer,
  answer_type,
  choices,
});

describe("answer checks by type", () => {
  it("yes/no accepts the usual spellings and rejects the opposite", () => {
    for (const p of ["yes", "Yes.", "YES", "true", "\\text{Yes}", "Yes, there is"])
      expect(check(p, gold("yes", "yes_no"))).toBe(true);
    for (const p of ["no", "No.", "maybe", ""]) expect(check(p, gold("yes", "yes_no"))).toBe(false);
    expect(check("No", gold("no", "yes_no"))).toBe(true);
    expect(check("No, there is not.", gold("no", "yes_no"))).toBe(true);
    // an answer that contradicts itself or only starts like one is neither
    for (const p of [
      "yes. red circle not listed. no",
      "not listed. no",
      "n hexagon. not listed",
      "Yes, it is not",
    ])
      expect(check(p, gold("yes", "yes_no")) || check(p, gold("no", "yes_no"))).toBe(false);
  });

  it("integer compares values: digits, words, separators, one number in a phrase", () => {
    for (const p of ["3", " 3 ", "3.", "three", "3 circles", "$3$", "3.0"])
      expect(check(p, gold("3", "integer"))).toBe(true);
    for (const p of ["4", "3.5", "3 or 4", "", "thirty"]) expect(check(p, gold("3", "integer"))).toBe(false);
    expect(check("1,200", gold("1200", "integer"))).toBe(true);
  });

  it("float accepts values within the tolerance (1% relative by default) and fractions", () => {
    expect(check("0.333", gold("0.3333", "float"))).toBe(true);
    expect(check("1/3", gold("0.3333", "float"))).toBe(true);
    expect(check("\\frac{1}{3}", gold("0.3333", "float"))).toBe(true);
    expect(check("0.35", gold("0.3333", "float"))).toBe(false);
    const tight = createAnswerChecker({ floatTolerance: { relative: 0, absolute: 1e-4 } });
    expect(tight("0.333", gold("0.3333", "float"))).toBe(false);
    expect(tight("0.33331", gold("0.3333", "float"))).toBe(true);
  });

  it("choice accepts the letter in its usual dressings or the option's text", () => {
    const g = gold("B", "choice", ["a red circle", "a blue square", "a green star"]);
    for (const p of [
      "B",
      "b",
      "(B)",
      "B.",
      "B) a blue square",
      "Option B",
      "a blue square",
      "The blue square",
    ]) {
      expect(check(p, g), p).toBe(true);
    }
    for (const p of ["A", "C", "Blue", "a red circle", ""]) expect(check(p, g), p).toBe(false);
    expect(parseChoice("Blue", ["x"])).toBeNull();
  });

  it("text compares after SQuAD-style normalization", () => {
    expect(check("The Red Circle.", gold("red circle", "text"))).toBe(true);
    expect(check("\\text{red circle}", gold("red circle", undefined))).toBe(true);
    expect(check("blue circle", gold("red circle", "text"))).toBe(false);
    expect(check("2.50", gold("2.5", "text"))).toBe(true);
  });

  it("text lists (the describe family) match in any order, and only with the same items", () => {
    const g = gold("red circle, blue square", "text");
    expect(check("Blue square, red circle.", g)).toBe(true);
    expect(check("a blue square and a red circle", g)).toBe(true);
    expect(check("red circle", g)).toBe(false);
    expect(check("red circle, blue square, green star", g)).toBe(false);
  });

  it("no answer is never right", () => {
    for (const t of ["yes_no", "integer", "float", "choice", "text"] as const)
      expect(check(null, gold("yes", t))).toBe(false);
  });

  it("a check plugged in for one type replaces the built-in one", () => {
    const custom = createAnswerChecker({ checks: { text: (p, g) => p?.startsWith(g.answer) ?? false } });
    expect(custom("red circle, top left", gold("red circle", "text"))).toBe(true);
    expect(custom("3", gold("3", "integer"))).toBe(true);
  });

  it("parseNumber reads percentages and rejects two numbers", () => {
    expect(parseNumber("50%")).toBe(50);
    expect(parseNumber("-2.5")).toBe(-2.5);
    expect(parseNumber("2 and 3")).toBeNull();
  });
});

describe("format check", () => {
  const full = "<description>a red circle</description>\n<think>one circle</think>\n\\boxed{1}";
  it("strict is Vision-SR1's format reward: description, think, boxed answer and nothing after", () => {
    expect(checkFormat(full, "strict")).toBe(true);
    expect(
      checkFormat("< description >a red circle</ description > <think>x</think> \\boxed{1}", "strict"),
    ).toBe(true);
    expect(checkFormat(`${full} and more`, "strict")).toBe(false);
    expect(checkFormat("<description>a red circle</description> \\boxed{1}", "strict")).toBe(false);
    expect(checkFormat("<think>x</think><description>a</description>\\boxed{1}", "strict")).toBe(false);
    expect(checkFormat("<description></description><think>x</think>\\boxed{1}", "strict")).toBe(false);
  });
  it("description needs a description and a boxed answer; off needs only the box", () => {
    expect(checkFormat("<description>a red circle</description> \\boxed{1}", "description")).toBe(true);
    expect(checkFormat("<think>x</think> \\boxed{1}", "description")).toBe(false);
    expect(checkFormat("\\boxed{1}", "off")).toBe(true);
    expect(checkFormat("1", "off")).toBe(false);
  });
});
