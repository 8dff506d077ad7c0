// Where a response being generated stands in HSR-EE's steps: how many steps it has completed, and
// what to force after it for a trial answer. Used token by token while decoding, so a trial can be
// asked for the moment a step ends (the text then ends exactly where `splitSteps` ends the step).
import { splitSteps } from "./split.js";

const SENTENCE_END = /[.!?。！？][)\]"'”’]*$/;

/** Returns how many steps after step 0 a partial response has completed (an unfinished last step does not count). */
export function completedSteps(partial: string): number {
  const steps = splitSteps(partial);
  const last = steps[steps.length - 1];
  if (last.index === 0) return 0;
  const rest = partial.slice(last.end);
  const finished =
    rest.trim().length > 0 || (last.part === "think" && rest.includes("\n")) || SENTENCE_END.test(last.text);
  return finished ? last.index : last.index - 1;
}

/**
 * Returns the text a trial answer continues a partial response with: its open tag closed (unless the
 * partial already ends with the closing tag) and `\boxed{` opened; `\boxed{` alone before any step.
 * For a partial that ends where step k ends, partial + this is `trialPrefix(response, k)`.
 */
export function trialSuffix(partial: string): string {
  const steps = splitSteps(partial);
  const last = steps[steps.length - 1];
  if (last.part === "answer") return "\\boxed{";
  const close = `</${last.part}>`;
  return partial.trimEnd().endsWith(close) ? "\n\\boxed{" : `${close}\n\\boxed{`;
}

/** Returns the index just past the brace that closes a `\boxed{` already opened before `text`, or −1 while it is open. */
export function boxClosedAt(text: string): number {
  let depth = 1;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === "{") depth++;
    else if (text[i] === "}" && --depth === 0) return i + 1;
  }
  return -1;
}
