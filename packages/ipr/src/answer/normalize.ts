const NUMBER_WORDS: Record<string, number> = {
  zero: 0,
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
  eleven: 11,
  twelve: 12,
  thirteen: 13,
  fourteen: 14,
  fifteen: 15,
  sixteen: 16,
  seventeen: 17,
  eighteen: 18,
  nineteen: 19,
  twenty: 20,
};

/** The answer with LaTeX wrappers (`\text{}`, `$…$`, `\mathrm{}`), surrounding quotes and a final full stop removed. */
export function stripAnswerMarkup(answer: string): string {
  let s = answer.trim();
  for (let i = 0; i < 4; i++) {
    const before = s;
    s = s.replace(/^\$+|\$+$/g, "").trim();
    const wrapped = /^\\(?:text|textbf|mathrm|mathbf|operatorname)\{([\s\S]*)\}$/.exec(s);
    if (wrapped) s = wrapped[1].trim();
    s = s.replace(/^["'`]+|["'`]+$/g, "").trim();
    s = s.replace(/[.。!]+$/, "").trim();
    if (s === before) break;
  }
  return s;
}

/** Free text for comparison: lower case, markup, punctuation and articles removed, spaces collapsed (SQuAD-style). */
export function normalizeText(answer: string): string {
  return stripAnswerMarkup(answer)
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s.-]/gu, " ")
    .replace(/(?<!\d)\.|\.(?!\d)/g, " ")
    .replace(/\b(a|an|the)\b/g, " ")
    .replace(/\s+/g, " ")
    .trim();
}

/** The number an answer states (digits with separators, a fraction, `\frac{a}{b}`, a percentage or a number word), or null. */
export function parseNumber(answer: string): number | null {
  const s = stripAnswerMarkup(answer).toLowerCase().replace(/\s+/g, " ").trim();
  const direct = numberOf(s);
  if (direct !== null) return direct;
  // "3 circles", "there are 3": accept exactly one number in the text
  const tokens = s.match(/-?\d[\d,]*(?:\.\d+)?(?:\/\d+)?%?|\b[a-z]+\b/g) ?? [];
  const numbers = tokens.map(numberOf).filter((n): n is number => n !== null);
  return numbers.length === 1 ? numbers[0] : null;
}

function numberOf(token: string): number | null {
  const t = token.trim();
  if (t in NUMBER_WORDS) return NUMBER_WORDS[t];
  const frac =
    /^\\[dt]?frac\{(-?[\d.]+)\}\{(-?[\d.]+)\}$/.exec(t) ?? /^(-?[\d.]+)\s*\/\s*(-?[\d.]+)$/.exec(t);
  if (frac) {
    const den = Number(frac[2]);
    return den === 0 ? null : Number(frac[1]) / den;
  }
  const m = /^([-+]?)(\d{1,3}(?:,\d{3})+|\d+)?(\.\d+)?(%)?$/.exec(t);
  if (!m || (m[2] === undefined && m[3] === undefined)) return null;
  const value = Number(`${m[1]}${(m[2] ?? "0").replace(/,/g, "")}${m[3] ?? ""}`);
  return Number.isFinite(value) ? value : null;
}

/**
 * `yes` or `no` when the answer commits to one without contradicting itself: it starts with
 * yes/true/correct (or no/false/incorrect, or is "none") and no word of the other side follows
 * ("Yes, there is" is yes; "yes. red circle not listed. no" and "n hexagon" are neither). A winner
 * must be right on purpose, not by a stray prefix.
 */
export function parseYesNo(answer: string): "yes" | "no" | null {
  const s = normalizeText(answer);
  const words = s.match(/[a-z]+/g) ?? [];
  const saysYes = words.some((w) => w === "yes" || w === "true" || w === "correct");
  const saysNo = words.some(
    (w) => w === "no" || w === "not" || w === "false" || w === "incorrect" || w === "none",
  );
  if (/^(yes|true|correct)\b/.test(s) && !saysNo) return "yes";
  if ((/^(no|false|incorrect)\b/.test(s) || s === "none") && !saysYes) return "no";
  return null;
}

/**
 * The option letter an answer picks: `B`, `(B)`, `B.`, `B) text`, `Option B`, or the option's own
 * text when `choices` are given. Null when it picks none.
 */
export function parseChoice(answer: string, choices?: readonly string[] | null): string | null {
  const s = stripAnswerMarkup(answer).trim();
  const letter = /^(?:option|choice|answer)?\s*[:(]?\s*\(?([A-Za-z])\)?(?:[.):\s]|$)/i.exec(s);
  if (letter && (s.length <= 3 || /^[A-Za-z][.):]|^\([A-Za-z]\)|^(option|choice|answer)\b/i.test(s))) {
    return letter[1].toUpperCase();
  }
  if (choices && choices.length > 0) {
    const want = normalizeText(s);
    const index = choices.findIndex((c) => normalizeText(c) === want);
    if (index >= 0) return String.fromCharCode(65 + index);
  }
  return null;
}
