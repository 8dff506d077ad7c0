// Python's meaning of the string operations that Vision-SR1 and MathRuler rely on, where
// JavaScript's differs: whitespace (`str.strip`, `\s`), `float()`, and `$` at the end of a pattern.

/** The characters for which Python's `str.isspace()` (and `\s` in a `str` pattern) is true. */
export const PY_SPACE =
  "\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";

/** Python's `$` without MULTILINE: the end of the text, or just before a newline that ends it. */
export const PY_END = "(?=\\n?$)";

const LEADING = new RegExp(`^[${PY_SPACE}]+`);
const TRAILING = new RegExp(`[${PY_SPACE}]+$`);

/** `text.strip()` in Python: whitespace removed from both ends, Python's whitespace. */
export function pyStrip(text: string): string {
  return text.replace(LEADING, "").replace(TRAILING, "");
}

// A Unicode decimal digit's value: the Nd digits come in runs of ten that start at a zero.
function digitValue(ch: string): string {
  if (ch >= "0" && ch <= "9") return ch;
  let cp = ch.codePointAt(0) as number;
  let start = cp;
  while (/\p{Nd}/u.test(String.fromCodePoint(start - 1))) start--;
  cp = (cp - start) % 10;
  return String(cp);
}

const FLOAT = /^[+-]?(?:(?:\d(?:_?\d)*)?\.\d(?:_?\d)*|\d(?:_?\d)*\.?)(?:[eE][+-]?\d(?:_?\d)*)?$/;
const SPECIAL = /^([+-]?)(inf|infinity|nan)$/i;

/** `float(text)` in Python (Unicode digits, `_` between digits, inf/nan), or null where it raises. */
export function pyFloat(text: string): number | null {
  const s = Array.from(pyStrip(text), (ch) => (/\p{Nd}/u.test(ch) ? digitValue(ch) : ch)).join("");
  const special = SPECIAL.exec(s);
  if (special) {
    if (special[2].toLowerCase() === "nan") return Number.NaN;
    return special[1] === "-" ? -Infinity : Infinity;
  }
  if (!FLOAT.test(s)) return null;
  return Number(s.replaceAll("_", ""));
}

/** `str(int(x))` in Python for a finite float: the exact integer, truncated toward zero. */
export function pyIntString(x: number): string {
  return BigInt(Math.trunc(x)).toString();
}

/** `round(x)` in Python for a finite float: to the nearest integer, halves to even. */
export function pyRound(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
