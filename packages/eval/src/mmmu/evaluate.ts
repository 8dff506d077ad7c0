import { type MmmuValue, normalizeStr } from "./parse.js";

/** eval_multi_choice: true when the prediction equals the gold letter (or one of a list of them). */
export function evalMultiChoice(gold: string | readonly string[], pred: string): boolean {
  if (Array.isArray(gold)) return gold.some((g) => g === pred);
  return gold === pred;
}

/**
 * eval_open: true when a string prediction contains a normalized string answer, or a number prediction
 * equals a normalized number answer (both rounded to 2 decimals).
 */
export function evalOpen(gold: string | readonly string[], preds: readonly MmmuValue[]): boolean {
  const norm: MmmuValue[] = Array.isArray(gold)
    ? gold.flatMap((g) => normalizeStr(g))
    : normalizeStr(gold as string);
  for (const pred of preds) {
    if (typeof pred === "string") {
      if (norm.some((a) => typeof a === "string" && pred.includes(a))) return true;
    } else if (norm.some((a) => a === pred)) {
      return true;
    }
  }
  return false;
}
