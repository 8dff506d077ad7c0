// MathRuler's `math_normalize.normalize_answer`: Hendrycks' MATH string normalisation, which
// grade_answer tries first ("be at least as lenient as mathd").
import { PY_END, pyStrip } from "./python.js";

// `^\\text\{(?P<text>.+?)\}$` with Python's `.` (no newline) and `$`.
const ENCLOSING_TEXT = new RegExp(`^\\\\text\\{([^\\n]+?)\\}${PY_END}`);

/** The ground truth or answer after the MATH normalisation (MathRuler's `normalize_answer`). */
export function normalizeAnswer(answer: string): string {
  answer = pyStrip(answer);
  try {
    const m = ENCLOSING_TEXT.exec(answer);
    if (m) answer = pyStrip(m[1]);
    return stripString(answer);
  } catch {
    // MathRuler returns the answer as it stood when a step failed (an IndexError, an assert).
    return answer;
  }
}

class PythonError extends Error {}

// Python indexes strings by code point; an index past the end raises.
function at(s: string[], i: number): string {
  if (i >= s.length) throw new PythonError("string index out of range");
  return s[i];
}

function fixFracs(string: string): string {
  const substrs = string.split("\\frac");
  let out = substrs[0];
  for (const substr of substrs.slice(1)) {
    const chars = Array.from(substr);
    out += "\\frac";
    if (at(chars, 0) === "{") {
      out += substr;
      continue;
    }
    // MathRuler returns the input unchanged when a bare \frac has under two characters after it.
    if (chars.length < 2) return string;
    const [a, b] = chars;
    const post = chars.slice(2).join("");
    out += b !== "{" ? `{${a}}{${b}}${post}` : `{${a}}${b}${post}`;
  }
  return out;
}

// Python's int() on a str, where only ASCII digits matter: MathRuler then requires the text to be
// exactly "a/b" with a and b as int() prints them, which rules out other digits, signs and "_".
function pyInt(s: string): bigint | null {
  const t = pyStrip(s);
  if (!/^[+-]?[0-9](?:_?[0-9])*$/.test(t)) return null;
  return BigInt(t.replaceAll("_", ""));
}

function fixASlashB(string: string): string {
  const parts = string.split("/");
  if (parts.length !== 2) return string;
  const a = pyInt(parts[0]);
  const b = pyInt(parts[1]);
  if (a === null || b === null || string !== `${a}/${b}`) return string;
  return `\\frac{${a}}{${b}}`;
}

function removeRightUnits(string: string): string {
  if (!string.includes("\\text{ ")) return string;
  const splits = string.split("\\text{ ");
  if (splits.length !== 2) throw new PythonError("assert len(splits) == 2");
  return splits[0];
}

function fixSqrt(string: string): string {
  if (!string.includes("\\sqrt")) return string;
  const splits = string.split("\\sqrt");
  let out = splits[0];
  for (const split of splits.slice(1)) {
    const chars = Array.from(split);
    out += at(chars, 0) !== "{" ? `\\sqrt{${chars[0]}}${chars.slice(1).join("")}` : `\\sqrt${split}`;
  }
  return out;
}

function stripString(string: string): string {
  string = string.replaceAll("\n", "");
  string = string.replaceAll("\\!", "");
  string = string.replaceAll("\\\\", "\\");
  string = string.replaceAll("tfrac", "frac").replaceAll("dfrac", "frac");
  string = string.replaceAll("\\left", "").replaceAll("\\right", "");
  string = string.replaceAll("^{\\circ}", "").replaceAll("^\\circ", "");
  string = string.replaceAll("\\$", "");
  string = removeRightUnits(string);
  string = string.replaceAll("\\%", "").replaceAll("%", "");
  string = string.replaceAll(" .", " 0.").replaceAll("{.", "{0.");
  if (string.length === 0) return string;
  if (string[0] === ".") string = "0" + string;
  const sides = string.split("=");
  if (sides.length === 2 && Array.from(sides[0]).length <= 2) string = sides[1];
  string = fixSqrt(string);
  string = string.replaceAll(" ", "");
  string = fixFracs(string);
  if (string === "0.5") string = "\\frac{1}{2}";
  return fixASlashB(string);
}
