import type { Sample } from "@sr2se/core";
import { accuracyReward } from "@sr2se/hsr-ee";

/** The parts of a sample an answer check may look at. */
export type GoldAnswer = Pick<Sample, "answer" | "answer_type" | "choices">;

/** Decides whether a response (its whole text) answers right against the gold answer. */
export type AnswerCheck = (response: string, gold: GoldAnswer) => boolean;

/**
 * Vision-SR1's accuracy reward (`accuracyReward` of `@sr2se/hsr-ee`: the last `\boxed{}` graded by
 * MathRuler's grader): the check of responses, of corrections and of the self-reward's text-only
 * answer, the same one GRPO is rewarded by.
 */
export const visionSr1Accuracy: AnswerCheck = (response, gold) => accuracyReward(response, gold.answer) === 1;
