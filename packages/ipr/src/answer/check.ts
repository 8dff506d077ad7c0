import type { AnswerType, Sample } from "@sr2se/core";
import { normalizeText, parseChoice, parseNumber, parseYesNo } from "./normalize.js";

/** The parts of a sample an answer check may look at. */
export type GoldAnswer = Pick<Sample, "answer" | "answer_type" | "choices">;

/** Decides whether a predicted answer (the content of `\boxed{}`, or null) matches the gold one. */
export type AnswerCheck = (predicted: string | null, gold: GoldAnswer) => boolean;

/** Absolute and relative tolerance of float answers: right when |p − g| ≤ max(absolute, relative·|g|). */
export interface FloatTolerance {
  absolute: number;
  relative: number;
}

/** Options of `createAnswerChecker`: a tolerance for floats and checks that replace the built-in ones by type. */
export interface AnswerCheckerOptions {
  floatTolerance?: Partial<FloatTolerance>;
  checks?: Partial<Record<AnswerType, AnswerCheck>>;
}

export const DEFAULT_FLOAT_TOLERANCE: FloatTolerance = { absolute: 1e-6, relative: 1e-2 };

/** Returns true when the predicted yes/no answer equals the gold one. */
export const checkYesNo: AnswerCheck = (predicted, gold) => {
  if (predicted === null) return false;
  const want = parseYesNo(gold.answer);
  return want !== null && parseYesNo(predicted) === want;
};

/** Returns true when the predicted answer states the gold integer. */
export const checkInteger: AnswerCheck = (predicted, gold) => {
  if (predicted === null) return false;
  const want = parseNumber(gold.answer);
  const got = parseNumber(predicted);
  return want !== null && got !== null && Number.isInteger(got) && got === want;
};

/** Returns a check that accepts floats within `tolerance` of the gold value. */
export function floatCheck(tolerance: Partial<FloatTolerance> = {}): AnswerCheck {
  const { absolute, relative } = { ...DEFAULT_FLOAT_TOLERANCE, ...tolerance };
  return (predicted, gold) => {
    if (predicted === null) return false;
    const want = parseNumber(gold.answer);
    const got = parseNumber(predicted);
    if (want === null || got === null) return false;
    return Math.abs(got - want) <= Math.max(absolute, relative * Math.abs(want));
  };
}

/** Returns true when the predicted answer picks the gold option letter (by letter or by the option's text). */
export const checkChoice: AnswerCheck = (predicted, gold) => {
  if (predicted === null) return false;
  const want = parseChoice(gold.answer, gold.choices);
  return want !== null && parseChoice(predicted, gold.choices) === want;
};

/**
 * Returns true when the normalized texts are equal; a comma-separated gold list ("red circle, blue
 * square") matches the same items in any order; numbers are compared by value.
 */
export const checkText: AnswerCheck = (predicted, gold) => {
  if (predicted === null) return false;
  const a = normalizeText(predicted);
  const b = normalizeText(gold.answer);
  if (a === b && a !== "") return true;
  if (gold.answer.includes(",")) {
    const items = (t: string) =>
      t
        .split(/,|\band\b/)
        .map(normalizeText)
        .filter((x) => x !== "")
        .sort()
        .join("|");
    if (items(predicted) === items(gold.answer)) return true;
  }
  const na = parseNumber(predicted);
  const nb = parseNumber(gold.answer);
  return na !== null && nb !== null && /^[-\d.,/%\s]+$/.test(a) && /^[-\d.,/%\s]+$/.test(b) && na === nb;
};

/** Returns the answer check of each answer type, with `options.checks` replacing built-in ones. */
export function createAnswerChecker(options: AnswerCheckerOptions = {}): AnswerCheck {
  const checks: Record<AnswerType, AnswerCheck> = {
    yes_no: checkYesNo,
    integer: checkInteger,
    float: floatCheck(options.floatTolerance),
    choice: checkChoice,
    text: checkText,
    ...options.checks,
  };
  return (predicted, gold) => {
    const type = gold.answer_type ?? "text";
    const check = checks[type];
    if (!check) throw new Error(`answer check: no check for answer_type "${type}"`);
    return check(predicted, gold);
  };
}
