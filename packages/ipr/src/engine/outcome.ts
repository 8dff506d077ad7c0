import type { PreferencePair, Sample } from "@sr2se/core";
import type { HallucinationCount } from "../hallucination/counter.js";

/**
 * What became of one sample.
 * - `round0_correct`: right at once; no pair (kept as SFT data when asked and it passes the filters).
 * - `corrected`: wrong at round 0, right at a later round, winner passed the filters: one pair.
 * - `filtered_format` / `filtered_self_reward`: corrected, but no right response passed that filter.
 * - `never_corrected`: wrong in every round.
 */
export type OutcomeKind =
  | "round0_correct"
  | "corrected"
  | "filtered_format"
  | "filtered_self_reward"
  | "never_corrected";

/** The record of one processed sample, as the outcomes ledger holds it (one JSON line a sample). */
export interface SampleOutcome {
  /** The sample id (the ledger's key). */
  id: string;
  outcome: OutcomeKind;
  /** The first round with a right answer, or null. */
  round: number | null;
  /** Rounds run, round 0 included. */
  rounds: number;
  /** Responses generated for the image (not counting self-reward requests). */
  responses: number;
  /** Of those, responses that failed the format check. */
  format_failures: number;
  /** Tokens generated for the image requests and for the self-reward requests, where the policy counts them. */
  tokens: number;
  self_reward_tokens: number;
  /** Self-reward checks made and passed. */
  self_reward_checked: number;
  self_reward_passed: number;
  /**
   * Hallucination counts (samples with objects only): of the pair's two sides, or, when the filters
   * stopped the right responses, of the most confident right one (`filtered`) and the original.
   */
  hallucination?: {
    chosen?: HallucinationCount;
    rejected?: HallucinationCount;
    filtered?: HallucinationCount;
  };
  pair_id?: string;
  sft_id?: string;
  /** Wall time of the sample, in ms. */
  ms: number;
}

/** A round-0 success kept for supervised fine-tuning: the sample with the policy's own right response. */
export type SftRecord = Sample & { response: string; meta: { source: "ipr"; round: 0; policy?: string } };

/** The result of refining one sample: its ledger record and what it produced. */
export interface RefinementResult {
  outcome: SampleOutcome;
  pair?: PreferencePair;
  sft?: SftRecord;
}
