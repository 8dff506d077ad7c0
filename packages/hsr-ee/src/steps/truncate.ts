// HSR-EE's training targets: a response cut after each of its steps and closed with the answer, so
// the policy learns to answer from any step as well as the steps before allow.
import { extractBoxedContent } from "../reward/boxed.js";
import { splitSteps, trialPrefix } from "./split.js";

/** Returns the response cut after each step k (0 first), closed and answered: `trialPrefix(response, k) + answer + "}"`. */
export function truncatedResponses(response: string, answer = extractBoxedContent(response)): string[] {
  return splitSteps(response).map((s) => `${trialPrefix(response, s.index)}${answer}}`);
}
