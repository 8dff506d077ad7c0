// MathRuler's `grade_answer` (after PRM800K's grader): equal after the MATH normalisation, or after
// MathRuler's own normalisation, or element by element (tuples, intervals) under sympy.
import { latexToText } from "./latex-to-text.js";
import { normalizeAnswer } from "./math-normalize.js";
import { PY_END, pyFloat, pyIntString, pyRound, pyStrip } from "./python.js";
import { equalUnderSympy } from "./sympy-equal.js";

const ENCLOSING_TEXT = new RegExp(`^\\\\text\\{([^\\n]+?)\\}${PY_END}`);
const UNITS = [
  "degree",
  "cm",
  "centimeter",
  "meter",
  "mile",
  "second",
  "minute",
  "hour",
  "day",
  "week",
  "month",
  "year",
  "foot",
  "feet",
  "inch",
  "yard",
];
const UNIT_PATTERNS = UNITS.map((unit) => new RegExp(`${unit}(es)?(s)? *(\\^[0-9]+)?`, "g"));
const FORMATTED_COMMA = /(\p{Nd})(,)(\p{Nd}\p{Nd}\p{Nd})($|\P{Nd})/gu;
const FRACTION = new RegExp(`^-?[0-9]+[^\\n]?/0*[1-9][0-9]*[^\\n]?${PY_END}`);
const TUPLE_CHARS = "()[]";

function parseLatex(expr: string): string {
  expr = expr.replaceAll("\\tfrac", "\\frac").replaceAll("\\dfrac", "\\frac").replaceAll("\\frac", " \\frac");
  expr = latexToText(expr);
  expr = expr.replaceAll("√", "sqrt").replaceAll("π", "pi").replaceAll("∞", "inf").replaceAll("∪", "U");
  expr = expr.replaceAll("·", "*").replaceAll("×", "*");
  return pyStrip(expr);
}

function isInt(x: number): boolean {
  return Number.isFinite(x) && Math.abs(x - pyRound(x)) <= 1e-7;
}

function stripProperlyFormattedCommas(expr: string): string {
  for (;;) {
    const next = expr.replace(FORMATTED_COMMA, "$1$3$4");
    if (next === expr) return next;
    expr = next;
  }
}

function strIsInt(x: string): boolean {
  const f = pyFloat(stripProperlyFormattedCommas(x));
  return f !== null && isInt(f);
}

/** MathRuler's `_normalize`: units, `\text{}`, LaTeX to text, spaces and case removed; integers canonical. */
export function normalizeExpression(expr: string): string {
  const m = ENCLOSING_TEXT.exec(expr);
  if (m) expr = m[1];
  expr = expr.replaceAll("\\%", "%").replaceAll("\\$", "$").replaceAll("$", "").replaceAll("%", "");
  expr = expr.replaceAll(" or ", " , ").replaceAll(" and ", " , ");
  expr = expr.replaceAll("million", "*10^6").replaceAll("billion", "*10^9").replaceAll("trillion", "*10^12");
  for (const unit of UNIT_PATTERNS) expr = expr.replace(unit, "");
  expr = expr.replace(/\^ *\\circ/g, "");
  if (expr.length > 0 && expr[0] === "{" && expr[expr.length - 1] === "}") expr = expr.slice(1, -1);
  expr = expr.replace(/,\\! */g, "");
  const f = pyFloat(expr);
  if (f !== null && isInt(f)) expr = pyIntString(pyRound(f));
  if (expr.includes("\\")) {
    try {
      expr = parseLatex(expr);
    } catch {
      // MathRuler keeps the expression when the LaTeX does not parse.
    }
  }
  expr = expr.replace(/- */g, "-");
  expr = expr.replace(/([0-9]) +([0-9])/g, "$1+$2");
  expr = expr.replaceAll(" ", "").replaceAll("{", "").replaceAll("}", "");
  expr = expr.toLowerCase();
  if (strIsInt(expr)) expr = pyIntString(pyFloat(expr.replaceAll(",", "")) as number);
  return expr;
}

function countUnknownLetters(expr: string): number {
  expr = expr.replaceAll("sqrt", "").replaceAll("frac", "");
  return new Set(Array.from(expr).filter((ch) => /\p{L}/u.test(ch))).size;
}

function shouldAllowEval(expr: string): boolean {
  if (countUnknownLetters(expr) > 2) return false;
  if (expr.includes("^{") || expr.includes("^(")) return false;
  return !/\^[0-9]+\^/.test(expr) && !/\^[0-9][0-9]+/.test(expr);
}

// Python indexes by code point: the first and last characters of a string.
function first(s: string): string {
  return String.fromCodePoint(s.codePointAt(0) as number);
}
function last(s: string): string {
  return Array.from(s.slice(-2)).pop() as string;
}

function splitTuple(expr: string): string[] {
  expr = stripProperlyFormattedCommas(expr);
  if (expr.length === 0) return [];
  const inner = expr.slice(1, -1);
  if (
    Array.from(expr).length > 2 &&
    TUPLE_CHARS.includes(first(expr)) &&
    TUPLE_CHARS.includes(last(expr)) &&
    ![...TUPLE_CHARS].some((ch) => inner.includes(ch))
  ) {
    return inner.split(",").map(pyStrip);
  }
  return [expr];
}

function elementsEqual(truth: string, given: string): boolean {
  // Unreduced fractions must match as written, and an integer truth needs an integer answer.
  if (FRACTION.test(truth) && FRACTION.test(given)) return truth === given;
  if (strIsInt(truth) !== strIsInt(given)) return false;
  return shouldAllowEval(`(${truth})-(${given})`) && equalUnderSympy(truth, given);
}

/** True when `given` is a correct answer for `groundTruth` (MathRuler's `grade_answer`). */
export function gradeAnswer(given: string, groundTruth: string): boolean {
  if (normalizeAnswer(groundTruth) === normalizeAnswer(given)) return true;
  const truth = normalizeExpression(groundTruth);
  const answer = normalizeExpression(given);
  if (truth === answer) return true;
  if (answer.length === 0) return false;
  const truthElems = splitTuple(truth);
  const givenElems = splitTuple(answer);
  if (truthElems.length > 1 && (first(truth) !== first(answer) || last(truth) !== last(answer))) {
    return false;
  }
  if (truthElems.length !== givenElems.length) return false;
  return truthElems.every((t, i) => elementsEqual(t, givenElems[i]));
}
