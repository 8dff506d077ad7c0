import type { EvalMode } from "../common/mode.js";
import { pyFloat, pyRound, pyStrip } from "../mathvista/python-number.js";
import { pyLen, pySplitWhitespace, pyStripChars } from "./pystr.js";
import type { PythonRandom } from "./python-random.js";

/** A normalized open-answer value: a float rounded to 2 decimals, or a lower-cased string. */
export type MmmuValue = number | string;

/** Where a multiple-choice reading came from. */
export type MultiChoiceSource = "bracket" | "letter" | "option_text" | "random";

export interface MultiChoiceParse {
  pred: string;
  source: MultiChoiceSource;
}

/**
 * The option letter MMMU's parse_multi_choice_response reads from a response, and how: "(A)" first, then
 * " A " between spaces, then (for responses of more than five words) an option's text; the last occurrence
 * wins among several; with nothing found, `rng.choice(allChoices)`: pass a PythonRandom seeded with 42 and
 * call in the official order to get the official picks. Robust mode strips the punctuation set in one pass
 * (the official strips one character kind after another, so "B,." keeps its comma) and ignores case of "(a)".
 */
export function parseMultiChoiceResponse(
  response: string,
  allChoices: readonly string[],
  index2ans: Readonly<Record<string, string>>,
  rng: PythonRandom,
  mode: EvalMode = "official",
): MultiChoiceParse {
  const punct = [",", ".", "!", "?", ";", ":", "'"];
  let r = response;
  if (mode === "robust") r = pyStripChars(pyStrip(r), `${punct.join("")} `);
  else for (const ch of punct) r = pyStripChars(r, ch);
  r = ` ${r} `;
  const hay = mode === "robust" ? r.toUpperCase() : r;

  let indexAns = true;
  let ansWithBrack = false;
  const candidates: string[] = [];
  for (const choice of allChoices) {
    if (hay.includes(`(${choice})`)) {
      candidates.push(choice);
      ansWithBrack = true;
    }
  }
  if (candidates.length === 0) {
    for (const choice of allChoices) if (r.includes(` ${choice} `)) candidates.push(choice);
  }
  if (candidates.length === 0 && pySplitWhitespace(r).length > 5) {
    const lower = r.toLowerCase();
    for (const [index, ans] of Object.entries(index2ans)) {
      if (lower.includes(ans.toLowerCase())) {
        candidates.push(index);
        indexAns = false;
      }
    }
  }
  if (candidates.length === 0) return { pred: rng.choice(allChoices), source: "random" };
  if (candidates.length === 1) {
    return {
      pred: candidates[0] as string,
      source: !indexAns ? "option_text" : ansWithBrack ? "bracket" : "letter",
    };
  }
  const starts = candidates.map((can) => {
    if (indexAns) return ansWithBrack ? hay.lastIndexOf(`(${can})`) : r.lastIndexOf(` ${can} `);
    return r.toLowerCase().lastIndexOf((index2ans[can] as string).toLowerCase());
  });
  // np.argmax: the first of equal maxima.
  let best = 0;
  for (let i = 1; i < starts.length; i++) if ((starts[i] as number) > (starts[best] as number)) best = i;
  return {
    pred: candidates[best] as string,
    source: !indexAns ? "option_text" : ansWithBrack ? "bracket" : "letter",
  };
}

/** Python's float(s.replace(",", "")) succeeds (check_is_number). */
export function checkIsNumber(s: string): boolean {
  return pyFloat(s.replaceAll(",", "")) !== null;
}

/** normalize_str: a number becomes [round(float, 2)]; a string is lower-cased, a single character padded both ways. */
export function normalizeStr(s: string): MmmuValue[] {
  const t = pyStrip(s);
  if (checkIsNumber(t)) return [pyRound(pyFloat(t.replaceAll(",", "")) as number, 2)];
  const lower = t.toLowerCase();
  if (pyLen(lower) === 1) return [` ${lower}`, `${lower} `];
  return [lower];
}

// Python's re with str patterns: \d is any Unicode decimal digit and \b a Unicode word boundary.
const D = "\\p{Nd}";
const W = "[\\p{L}\\p{N}_]";
const B = `(?:(?<=${W})(?!${W})|(?<!${W})(?=${W}))`;
const PATTERN_COMMAS = new RegExp(`-?${B}${D}{1,3}(?:,${D}{3})+${B}`, "gu");
const PATTERN_SCIENTIFIC = new RegExp(`-?${D}+(?:\\.${D}+)?[eE][+-]?${D}+`, "gu");
const PATTERN_SIMPLE = new RegExp(
  `-?(?:${D}+\\.${D}+|\\.${D}+|${D}+${B})(?![eE][+-]?${D}+)(?![,${D}])`,
  "gu",
);

/** extract_numbers: numbers with thousands commas, then scientific notation, then plain numbers, as strings. */
export function extractNumbers(s: string): string[] {
  const all = (re: RegExp) => Array.from(s.matchAll(re), (m) => m[0]);
  return [...all(PATTERN_COMMAS), ...all(PATTERN_SCIENTIFIC), ...all(PATTERN_SIMPLE)];
}

const INDICATORS = ["could be ", "so ", "is ", "thus ", "therefore ", "final ", "answer ", "result "];
const TRIVIAL = new Set([":", ",", ".", "!", "?", ";", "'"]);

/** get_key_subresponses: per line, the shortest tail after an indicator ("is ", "so ", …; "=" on the last line). */
export function keySubresponses(response: string): string[] {
  const r = pyStripChars(pyStrip(response), ".").toLowerCase();
  // After lower() the "\.\s(?=[A-Z])" branch cannot match: the official split is on newlines only.
  const subs = r.split(/\.\s(?=[A-Z])|\n/);
  const indicators = [...INDICATORS];
  const keys: string[] = [];
  subs.forEach((resp, index) => {
    if (index === subs.length - 1) indicators.push("=");
    let shortest: string | null = null;
    for (const ind of indicators) {
      if (!resp.includes(ind)) continue;
      const tail = pyStrip(resp.split(ind).at(-1) as string);
      // `if not shortest_key_response`: an empty tail is falsy, so the next indicator replaces it whatever its length.
      if (!shortest) shortest = tail;
      else if (pyLen(tail) < pyLen(shortest)) shortest = tail;
    }
    if (shortest && !TRIVIAL.has(pyStrip(shortest))) keys.push(shortest);
  });
  return keys.length === 0 ? [r] : keys;
}

/** Appends `v` unless an equal value (Python ==: 0.0 == -0.0, NaN never) is already there. */
function pushUnique(list: MmmuValue[], v: MmmuValue): void {
  if (!list.some((x) => x === v)) list.push(v);
}

/**
 * parse_open_response: the key sub-responses and every number in them, normalized (numbers rounded to 2
 * decimals, strings lower-cased) and de-duplicated. The official returns list(set(...)), whose order Python's
 * string hashing makes vary between runs; this keeps first occurrences in order (the verdict does not depend on it).
 */
export function parseOpenResponse(response: string): MmmuValue[] {
  const keys = keySubresponses(response);
  const preds: string[] = [...keys];
  for (const k of keys) preds.push(...extractNumbers(k));
  const out: MmmuValue[] = [];
  for (const p of preds) for (const v of normalizeStr(p)) pushUnique(out, v);
  return out;
}
