import { levenshtein } from "./levenshtein.js";
import {
  PythonOverflowError,
  pyFloat,
  pyFloatRepr,
  pyInt,
  pyRound,
  pyStrip,
  truncToBigInt,
} from "./python-number.js";
import type { ScoringMode } from "./types.js";

/** The choice closest to `prediction` by edit distance; the first one on a tie (MathVista's get_most_similar). */
export function getMostSimilar(prediction: string, choices: readonly string[]): string {
  if (choices.length === 0)
    throw new Error("get_most_similar: no choices to compare with (Python's min() of an empty list)");
  let best = 0;
  let bestDistance = Number.POSITIVE_INFINITY;
  choices.forEach((choice, i) => {
    const d = levenshtein(prediction, choice);
    if (d < bestDistance) {
      bestDistance = d;
      best = i;
    }
  });
  return choices[best] as string;
}

/** Python's str() of an extraction that is a string or None. */
function pyStr(value: string | null): string {
  return value === null ? "None" : value;
}

/** Python's int(precision) for the precision field, or null where it raises. */
function precisionDigits(precision: unknown): number | null {
  if (typeof precision === "number") return Number.isFinite(precision) ? Math.trunc(precision) : null;
  if (typeof precision === "boolean") return precision ? 1 : 0;
  if (typeof precision === "string") {
    const n = pyInt(precision);
    return n === null ? null : Number(n);
  }
  return null;
}

/** Decimal places written in an answer string ("1.25" has 2), for the robust mode's missing precision. */
function decimalsOf(answer: unknown): number | null {
  if (typeof answer !== "string" && typeof answer !== "number") return null;
  const m = /\.(\d+)\s*$/.exec(String(answer));
  return m ? (m[1] as string).length : 0;
}

export interface NormalizeOptions {
  mode?: ScoringMode;
  /** The official --ignore_empty_extractions flag: an empty multiple-choice extraction scores as no answer. */
  ignoreEmptyExtractions?: boolean;
  /** The ground truth; the robust mode reads a float answer's decimals from it when precision is missing. */
  answer?: unknown;
}

/**
 * The prediction MathVista compares with the answer: the option text for multiple choice (letter in
 * brackets, bare letter, else the closest choice), str(int(float(x))) for integers,
 * str(round(float(x), int(precision))) for floats, str(x) for lists; null where Python would fail.
 */
export function normalizeExtractedAnswer(
  extraction: string | null,
  choices: readonly string[] | null | undefined,
  questionType: string,
  answerType: string,
  precision: unknown,
  options: NormalizeOptions = {},
): string | null {
  const robust = options.mode === "robust";
  if (questionType === "multi_choice") {
    let text = extraction === null ? (robust ? "" : "None") : pyStrip(extraction);
    if ((options.ignoreEmptyExtractions || robust) && text === "") return null;
    if (!choices || choices.length === 0) {
      if (robust) return null;
      throw new Error('multi_choice problem has no "choices" (the official script fails on it)');
    }
    const letter = /\(([a-zA-Z])\)/.exec(text);
    if (letter) text = (letter[1] as string).toUpperCase();
    const index = choices.findIndex((_, i) => String.fromCharCode(65 + i) === text);
    return index >= 0 ? (choices[index] as string) : getMostSimilar(text, choices);
  }
  if (answerType === "integer") {
    const x = extraction === null ? null : pyFloat(extraction);
    if (x === null || !Number.isFinite(x)) return null;
    return truncToBigInt(x).toString();
  }
  if (answerType === "float") {
    const x = extraction === null ? null : pyFloat(extraction);
    let digits = precisionDigits(precision);
    if (digits === null && robust) digits = decimalsOf(options.answer);
    if (x === null || digits === null) return null;
    try {
      const rounded = pyRound(x, digits);
      return pyFloatRepr(robust && rounded === 0 ? 0 : rounded);
    } catch (err) {
      if (err instanceof PythonOverflowError) return null;
      throw err;
    }
  }
  if (answerType === "list") return pyStr(extraction);
  // Free-form text: the older official script returns the extraction unchanged (the newest one
  // raises UnboundLocalError here).
  return robust && extraction !== null ? pyStrip(extraction) : extraction;
}

/**
 * Whether the prediction equals the answer as Python's == does (a string never equals a number);
 * the robust mode compares both as trimmed strings.
 */
export function safeEqual(
  prediction: string | null,
  answer: unknown,
  mode: ScoringMode = "official",
): boolean {
  if (mode === "robust") {
    if (prediction === null || answer === null || answer === undefined) return false;
    const gold = typeof answer === "string" ? answer : JSON.stringify(answer);
    return pyStrip(prediction) === pyStrip(gold);
  }
  if (answer === null || answer === undefined) return prediction === null;
  return typeof answer === "string" && prediction === answer;
}
