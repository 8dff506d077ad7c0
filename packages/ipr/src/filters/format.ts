import { parseResponse } from "@sr2se/core";

/**
 * How strictly a winner's format is checked.
 * - `strict`: Vision-SR1's format reward: `<description>…</description> <think>…</think> \boxed{…}` and nothing after.
 * - `description`: a description and a boxed answer, tags in order (`<think>` optional).
 * - `off`: only a boxed answer.
 */
export type FormatCheck = "strict" | "description" | "off";

const STRICT = /^\s*<description>[\s\S]*?<\/description>\s*<think>[\s\S]*?<\/think>\s*\\boxed\{[\s\S]*\}\s*$/;

/** Returns true when `text` has the response format that `mode` asks for. */
export function checkFormat(text: string, mode: FormatCheck): boolean {
  // Vision-SR1 first closes up spaces around tag characters (some models write "< think >")
  const squeezed = text.replace(/\s*([<>/])\s*/g, "$1");
  const parsed = parseResponse(squeezed);
  if (parsed.answer === null) return false;
  if (mode === "off") return true;
  if (!parsed.formatOk || parsed.description === undefined || parsed.description === "") return false;
  if (mode === "description") return true;
  return STRICT.test(squeezed) && nothingAfterLastBox(squeezed);
}

function nothingAfterLastBox(text: string): boolean {
  const at = text.lastIndexOf("\\boxed{");
  let depth = 0;
  for (let i = at + 6; i < text.length; i++) {
    const c = text[i];
    if (c === "{") depth++;
    else if (c === "}" && --depth === 0) return text.slice(i + 1).trim() === "";
  }
  return false;
}
