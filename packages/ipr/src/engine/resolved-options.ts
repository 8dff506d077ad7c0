import type { FormatCheck } from "../filters/format.js";

/** Where a pair's loser comes from: the policy's own hallucination (the method) or an ablation. */
export type NegativeSource = "refined" | "random" | "corrupted";

/** What pairs are balanced over once a run ends: question families, and yes against no. */
export type BalanceKey = "families" | "yesno";

/** The options as the statistics report them. */
export interface ResolvedOptions {
  rounds: number;
  samples_per_round: number;
  temperature: number[];
  hard_negative: "max_logprob";
  negatives: NegativeSource;
  /** False: winners need only the right answer (the no-verification ablation). */
  verify: boolean;
  format_check: FormatCheck;
  self_reward: boolean;
  self_reward_temperature: number;
  /** Winners' descriptions must not mention an object the scene lacks (samples with `objects`). */
  perception: boolean;
  /** Also check the gold description and each round-0 description, to measure the check itself. */
  audit_self_reward: boolean;
  balance: BalanceKey[];
  keep_sft: boolean;
  max_tokens: number | null;
  top_p: number | null;
  seed: number;
  policy: string | null;
  concurrency: number;
  batch_size: number;
  max_in_flight: number;
}
