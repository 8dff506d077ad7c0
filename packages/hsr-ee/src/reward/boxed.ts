import { pyStrip } from "./python.js";

/**
 * The content of the last `\boxed{…}` with braces matched by depth, stripped; the string "None"
 * when there is none or the last one never closes (MathRuler's `extract_boxed_content`).
 *
 * Only the last `\boxed{` counts: an unclosed last box gives "None" even when an earlier one is
 * whole, and "None" is then graded like any answer (it matches a ground truth of "none").
 */
export function extractBoxedContent(text: string): string {
  const start = text.lastIndexOf("\\boxed{");
  if (start < 0) return "None";
  const content = text.slice(start + "\\boxed{".length);
  let depth = 0;
  for (let i = 0; i < content.length; i++) {
    const c = content[i];
    if (c === "{") depth++;
    else if (c === "}") depth--;
    if (depth === -1) return pyStrip(content.slice(0, i));
  }
  return "None";
}
