import type { EvalMode } from "../common/mode.js";

/**
 * "yes" or "no" as RUCAIBox/POPE's evaluate.py reads an answer: keep the text before the first ".",
 * drop commas, split on single spaces, and answer "no" only when a word is exactly "No", "not" or "no".
 * Everything else, the empty string included, reads as "yes".
 */
export function parsePopeAnswerOfficial(text: string): "yes" | "no" {
  let t = text;
  if (t.indexOf(".") !== -1) t = t.split(".")[0] as string;
  t = t.replaceAll(",", "");
  const words = t.split(" ");
  return words.includes("No") || words.includes("not") || words.includes("no") ? "no" : "yes";
}

const NEGATIONS = new Set(["no", "not", "none", "nope", "cannot", "never"]);

/**
 * "yes" or "no", read robustly: case-insensitive words split on anything but letters and apostrophes;
 * the first "yes" or "no" decides, else any negation ("not", "none", "…n't") means "no".
 */
export function parsePopeAnswerRobust(text: string): "yes" | "no" {
  const words =
    text
      .toLowerCase()
      .replaceAll("’", "'")
      .match(/[a-z']+/g) ?? [];
  for (const w of words) {
    if (w === "yes") return "yes";
    if (w === "no") return "no";
  }
  return words.some((w) => NEGATIONS.has(w) || w.endsWith("n't")) ? "no" : "yes";
}

/** The yes/no reading of an answer in the given mode. */
export function parsePopeAnswer(text: string, mode: EvalMode = "official"): "yes" | "no" {
  return mode === "robust" ? parsePopeAnswerRobust(text) : parsePopeAnswerOfficial(text);
}

/**
 * 1 (yes) or 0 (no) for a POPE label: officially any label but the exact string "no" is 1; robust mode
 * ignores case and surrounding space and returns null for a label that is neither yes nor no.
 */
export function popeLabel(label: string, mode: EvalMode = "official"): 0 | 1 | null {
  if (mode === "official") return label === "no" ? 0 : 1;
  const l = label.trim().toLowerCase();
  return l === "no" ? 0 : l === "yes" ? 1 : null;
}
