// The rewards GRPO trains on, both from `@sr2se/hsr-ee` (no reward is defined twice): Vision-SR1's
// self-reward (`computeScore`, see_think_selfReward.py) and its ablation without the self-reward
// (see_think_ablation_noSelfReward.py: answer correctness and format only, the "binary reward"),
// plus the reward-hacking signals logged beside them.
import { computeScore, extractBoxedContent, extractDescription } from "@sr2se/hsr-ee";

/** Which reward: Vision-SR1's self-reward, or correctness and format only. */
export type RewardKind = "vision-sr1" | "accuracy";

/** The reward kinds, for option parsing. */
export const REWARD_KINDS: readonly RewardKind[] = ["vision-sr1", "accuracy"];

/** One response's scores under Vision-SR1's names (`reward/<name>` in the metrics). */
export type RewardScore = Record<string, number> & { overall: number; format: number; accuracy: number };

/**
 * Returns the scores of one response. `vision-sr1`: `computeScore` (overall in [0, 2]). `accuracy`:
 * (1 − formatWeight)·accuracy + formatWeight·format, with the same whitespace squeeze and grader,
 * and no description pass.
 */
export function scoreResponse(
  kind: RewardKind,
  input: { response: string; groundTruth: string; descriptionAnswer?: string },
  formatWeight = 0.1,
): RewardScore {
  if (kind === "vision-sr1") {
    if (input.descriptionAnswer === undefined)
      throw new Error("scoreResponse: the vision-sr1 reward needs the description answer");
    return { ...computeScore({ ...input, descriptionAnswer: input.descriptionAnswer }, formatWeight) };
  }
  // computeScore's accuracy and format are the ablation's; its description terms are left out
  const s = computeScore(
    { response: input.response, groundTruth: input.groundTruth, descriptionAnswer: "" },
    formatWeight,
  );
  return {
    overall: (1 - formatWeight) * s.accuracy + formatWeight * s.format,
    format: s.format,
    accuracy: s.accuracy,
  };
}

const ANSWER_WORDS = /\\boxed|\banswer\b/i;

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * Whether a response's description gives its answer away, which the self-reward pays for without the
 * image being seen: the description (the whole response when it has none) holds `\boxed`, the word "answer", the response's own short
 * answer as a whole word (`yes`, `3`), or a choice letter in brackets (`(B)`). Long answers (object
 * lists) are not checked: a description lists the objects by design.
 */
export function descriptionLeaksAnswer(response: string): boolean {
  // without a description Vision-SR1's second pass is given the whole response, answer included
  const description = extractDescription(response);
  if (ANSWER_WORDS.test(description)) return true;
  const answer = extractBoxedContent(response);
  if (answer === "None" || answer === "" || /[\s,]/.test(answer)) return false;
  if (/^[A-Za-z]$/.test(answer)) return description.includes(`(${answer})`);
  return new RegExp(`(^|[^\\p{L}\\p{N}])${escapeRegExp(answer)}($|[^\\p{L}\\p{N}])`, "iu").test(description);
}
