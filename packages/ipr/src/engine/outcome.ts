import type { PreferencePair, Sample } from "@sr2se/core";
import type { HallucinationCount } from "../hallucination/counter.js";

/**
 * What became of one sample.
 * - `round0_correct`: every round-0 response right; no pair (kept as SFT data when asked and it passes the filters).
 * - `round0_pair`: a verified round-0 response won: its loser a wrong response sampled beside it (an
 *   on-policy negative although another sample was right), or with corrupted-image negatives the
 *   response to the corrupted image.
 * - `corrected`: wrong at round 0, right at a later round, winner verified: one pair.
 * - `filtered_format` / `filtered_perception` / `filtered_self_reward`: right answers came, but none
 *   passed that filter (the last one that stopped a candidate is named).
 * - `never_corrected`: wrong in every round.
 */
export type OutcomeKind =
  | "round0_correct"
  | "round0_pair"
  | "corrected"
  | "filtered_format"
  | "filtered_perception"
  | "filtered_self_reward"
  | "never_corrected";

/**
 * One self-reward check and what the ground truth says of its description. `kind`: a winner
 * candidate's description, the gold description, or a round-0 description checked for the audit.
 * `faithful`: the description names exactly the scene's objects (no hallucinated one, none missing,
 * by the CHAIR extractor), or null where the scene's objects are not known.
 */
export interface SelfRewardCheck {
  kind: "winner" | "gold" | "response";
  pass: boolean;
  faithful: boolean | null;
}

/** The record of one processed sample, as the outcomes ledger holds it (one JSON line a sample). */
export interface SampleOutcome {
  /** The sample id (the ledger's key). */
  id: string;
  outcome: OutcomeKind;
  /** The sample's question family and, for yes/no questions, its gold answer (for the pair statistics). */
  family?: string | null;
  yes_no?: "yes" | "no" | null;
  /** The round whose right response ended the sample (a pair or a filter), or null. */
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
  /** Self-reward checks made on winner candidates, and passed. */
  self_reward_checked: number;
  self_reward_passed: number;
  /** Every self-reward check with the ground truth's verdict on its description (for the check's agreement). */
  checks?: SelfRewardCheck[];
  /** Winner candidates whose description was checked for hallucinated objects, and those it stopped. */
  perception_checked?: number;
  perception_failed?: number;
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
