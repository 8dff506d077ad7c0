import type { FormatCheck } from "../filters/format.js";

/** The options as the statistics report them. */
export interface ResolvedOptions {
  rounds: number;
  samples_per_round: number;
  temperature: number[];
  hard_negative: "max_logprob";
  format_check: FormatCheck;
  self_reward: boolean;
  self_reward_temperature: number;
  keep_sft: boolean;
  max_tokens: number | null;
  top_p: number | null;
  seed: number | null;
  policy: string | null;
  concurrency: number;
  batch_size: number;
  max_in_flight: number;
}
