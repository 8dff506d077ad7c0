// Python's float()/int() parsing, round() and str() of a float, reproduced exactly: MathVista's
// normalize_extracted_answer is str(int(float(x))) or str(round(float(x), p)), so a verdict
// depends on every detail of how CPython reads, rounds and prints a double.

/** Characters CPython's str.strip() and float()/int() treat as whitespace (Py_UNICODE_ISSPACE). */
const PY_SPACE =
  "\t\n\u000b\u000c\r\u001c\u001d\u001e\u001f \u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000";

/** True when `ch` is whitespace for Python's str.isspace(). */
export function isPySpace(ch: string): boolean {
  return ch.length > 0 && PY_SPACE.includes(ch);
}

/** The string with Python whitespace removed from both ends, as Python's str.strip() returns it. */
export function pyStrip(s: string): string {
  const chars = Array.from(s);
  let start = 0;
  let end = chars.length;
  while (start < end && isPySpace(chars[start] as string)) start++;
  while (end > start && isPySpace(chars[end - 1] as string)) end--;
  return chars.slice(start, end).join("");
}

const DECIMAL_DIGIT = /\p{Nd}/u;

/** Value 0-9 of a Unicode decimal digit (Nd digits come in runs of ten from zero), or -1. */
function digitValue(ch: string): number {
  const code = ch.codePointAt(0) as number;
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (!DECIMAL_DIGIT.test(ch)) return -1;
  let start = code;
  while (start > 0 && DECIMAL_DIGIT.test(String.fromCodePoint(start - 1))) start--;
  return (code - start) % 10;
}

/** Python's preprocessing of float()/int() input: strip, then map Unicode digits to ASCII. */
function toAsciiNumber(s: string): string {
  let out = "";
  for (const ch of pyStrip(s)) {
    const v = ch.charCodeAt(0) < 0x80 ? -1 : digitValue(ch);
    out += v >= 0 ? String(v) : ch;
  }
  return out;
}

/** Digits with single underscores only between digits (Python's `digitpart`). */
const DIGITPART = "[0-9](?:_?[0-9])*";
const FLOAT_RE = new RegExp(
  `^[+-]?(?:(?:${DIGITPART}(?:\\.(?:${DIGITPART})?)?|\\.${DIGITPART})(?:[eE][+-]?${DIGITPART})?)$`,
);
const SPECIAL_RE = /^([+-]?)(inf|infinity|nan)$/i;
const INT_RE = new RegExp(`^[+-]?${DIGITPART}$`);

/** CPython's int_max_str_digits default (3.11+): longer decimal strings make int() fail. */
const INT_MAX_STR_DIGITS = 4300;

/** The double Python's float(s) returns, or null where float(s) raises ValueError. */
export function pyFloat(s: string): number | null {
  const t = toAsciiNumber(s);
  const special = SPECIAL_RE.exec(t);
  if (special) {
    const negative = special[1] === "-";
    if ((special[2] as string).toLowerCase() === "nan") return negative ? -Number.NaN : Number.NaN;
    return negative ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  }
  if (!FLOAT_RE.test(t)) return null;
  // JavaScript's Number() rounds decimal strings correctly, as Python's strtod does.
  return Number(t.replaceAll("_", ""));
}

/** The integer Python's int(s) returns (base 10), or null where int(s) raises ValueError. */
export function pyInt(s: string): bigint | null {
  const t = toAsciiNumber(s);
  if (!INT_RE.test(t)) return null;
  const digits = t.replace(/^[+-]/, "").replaceAll("_", "");
  if (digits.length > INT_MAX_STR_DIGITS) return null;
  return BigInt(t.replaceAll("_", ""));
}

/** Exact value of a finite double as sign * mantissa * 2^exponent (mantissa a BigInt). */
function decompose(x: number): { negative: boolean; mantissa: bigint; exponent: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const negative = hi >>> 31 === 1;
  const biased = (hi >>> 20) & 0x7ff;
  let mantissa = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let exponent: number;
  if (biased === 0) {
    exponent = -1074;
  } else {
    mantissa |= 1n << 52n;
    exponent = biased - 1075;
  }
  return { negative, mantissa, exponent };
}

/** The integer Python's int(x) gives for a finite double (truncation toward zero), as a BigInt. */
export function truncToBigInt(x: number): bigint {
  const { negative, mantissa, exponent } = decompose(x);
  const magnitude = exponent >= 0 ? mantissa << BigInt(exponent) : mantissa >> BigInt(-exponent);
  return negative ? -magnitude : magnitude;
}

/** Thrown where Python raises OverflowError (int(inf), round() past the float range). */
export class PythonOverflowError extends Error {}

/** Python's round(x, ndigits) for a float: exact decimal value rounded half to even, read back. */
export function pyRound(x: number, ndigits: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  // NDIGITS_MAX / NDIGITS_MIN of CPython's float___round___impl.
  if (ndigits > 323) return x;
  if (ndigits < -308) return 0 * x;
  const { negative, mantissa, exponent } = decompose(x);
  let num = mantissa;
  let den = 1n;
  if (exponent >= 0) num <<= BigInt(exponent);
  else den <<= BigInt(-exponent);
  if (ndigits >= 0) num *= 10n ** BigInt(ndigits);
  else den *= 10n ** BigInt(-ndigits);
  let q = num / den;
  const twiceRem = (num - q * den) * 2n;
  if (twiceRem > den || (twiceRem === den && q % 2n === 1n)) q += 1n;
  const rounded = Number(`${negative ? "-" : ""}${q}e${-ndigits}`);
  if (!Number.isFinite(rounded)) throw new PythonOverflowError("rounded value too large to represent");
  return rounded;
}

/** Python's str(x) / repr(x) of a float: shortest round-trip digits, CPython's layout rules. */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (x === Number.POSITIVE_INFINITY) return "inf";
  if (x === Number.NEGATIVE_INFINITY) return "-inf";
  const sign = x < 0 || Object.is(x, -0) ? "-" : "";
  if (x === 0) return `${sign}0.0`;
  // toExponential() with no argument gives the shortest digits that round-trip, like dtoa mode 0.
  const [mant, exp] = Math.abs(x).toExponential().split("e") as [string, string];
  const digits = mant.replace(".", "");
  const decpt = Number(exp) + 1;
  if (decpt <= -4 || decpt > 16) {
    const e = decpt - 1;
    const rest = digits.slice(1);
    const absE = String(Math.abs(e)).padStart(2, "0");
    return `${sign}${digits[0]}${rest ? `.${rest}` : ""}e${e < 0 ? "-" : "+"}${absE}`;
  }
  if (decpt <= 0) return `${sign}0.${"0".repeat(-decpt)}${digits}`;
  if (decpt < digits.length) return `${sign}${digits.slice(0, decpt)}.${digits.slice(decpt)}`;
  return `${sign}${digits}${"0".repeat(decpt - digits.length)}.0`;
}

/** Python's f"{x:.{d}f}" for a finite float: exact value rounded half to even to d decimals. */
export function pyFormatFixed(x: number, d: number): string {
  if (!Number.isFinite(x)) return pyFloatRepr(x);
  const { negative, mantissa, exponent } = decompose(x);
  let num = mantissa * 10n ** BigInt(d);
  let den = 1n;
  if (exponent >= 0) num <<= BigInt(exponent);
  else den <<= BigInt(-exponent);
  let q = num / den;
  const twiceRem = (num - q * den) * 2n;
  if (twiceRem > den || (twiceRem === den && q % 2n === 1n)) q += 1n;
  const s = q.toString().padStart(d + 1, "0");
  const body = d > 0 ? `${s.slice(0, s.length - d)}.${s.slice(s.length - d)}` : s;
  return `${negative ? "-" : ""}${body}`;
}
