import { isPySpace } from "../mathvista/python-number.js";

// The few str methods of CPython whose details MMMU's parsers depend on.

/** Python's s.strip(chars) for a set of characters (code points). */
export function pyStripChars(s: string, chars: string): string {
  const cps = Array.from(s);
  const set = new Set(Array.from(chars));
  let a = 0;
  let b = cps.length;
  while (a < b && set.has(cps[a] as string)) a++;
  while (b > a && set.has(cps[b - 1] as string)) b--;
  return cps.slice(a, b).join("");
}

/** Python's s.split() with no argument: runs of Unicode whitespace separate, no empty strings. */
export function pySplitWhitespace(s: string): string[] {
  const out: string[] = [];
  let cur = "";
  for (const ch of s) {
    if (isPySpace(ch)) {
      if (cur !== "") out.push(cur);
      cur = "";
    } else cur += ch;
  }
  if (cur !== "") out.push(cur);
  return out;
}

/** Python's len(s): the number of code points. */
export function pyLen(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}
