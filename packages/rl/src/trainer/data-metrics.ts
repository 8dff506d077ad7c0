// The figures verl logs about a rollout batch (verl/trainer/metrics.py `compute_data_metrics`), under
// its names, and the reward-hacking figures sr2se logs beside them.

/** Returns mean, max and min of a list, named `<prefix>/mean` … (verl's layout). */
function stats(prefix: string, values: number[]): Record<string, number> {
  let sum = 0;
  let max = Number.NEGATIVE_INFINITY;
  let min = Number.POSITIVE_INFINITY;
  for (const v of values) {
    sum += v;
    if (v > max) max = v;
    if (v < min) min = v;
  }
  return { [`${prefix}/mean`]: sum / values.length, [`${prefix}/max`]: max, [`${prefix}/min`]: min };
}

/** What `dataMetrics` reads, one entry a response. */
export interface BatchFigures {
  /** The sequence score (the sum of its token-level scores). */
  scores: number[];
  /** The advantage of each response (GRPO's is the same on every token of a response). */
  advantages: number[];
  responseLengths: number[];
  /** Prompt lengths in model positions (image tokens included). */
  promptLengths: number[];
  maxResponseTokens: number;
}

/**
 * Returns verl's `critic/score/*`, `critic/rewards/*` (the same here: the KL is a loss, not a reward
 * penalty), `critic/advantages/*` and `critic/returns/*` (token-weighted: verl takes them over the
 * masked tokens), `response_length/*` with `clip_ratio`, and `prompt_length/*`.
 */
export function dataMetrics(f: BatchFigures): Record<string, number> {
  const tokenAdvantages: number[] = [];
  f.advantages.forEach((a, i) => {
    for (let t = 0; t < f.responseLengths[i]; t++) tokenAdvantages.push(a);
  });
  const clipped = f.responseLengths.filter((n) => n === f.maxResponseTokens).length;
  return {
    ...stats("critic/score", f.scores),
    ...stats("critic/rewards", f.scores),
    ...stats("critic/advantages", tokenAdvantages),
    ...stats("critic/returns", tokenAdvantages),
    ...stats("response_length", f.responseLengths),
    "response_length/clip_ratio": clipped / f.responseLengths.length,
    ...stats("prompt_length", f.promptLengths),
  };
}

/** Returns the mean of each key over a list of score records (verl's `reduce_metrics`), prefixed. */
export function meanOfKeys(
  records: Record<string, number>[],
  prefix: string,
  suffix = "",
): Record<string, number> {
  const sums = new Map<string, number>();
  for (const r of records) for (const [k, v] of Object.entries(r)) sums.set(k, (sums.get(k) ?? 0) + v);
  const out: Record<string, number> = {};
  for (const [k, v] of sums) out[`${prefix}${k}${suffix}`] = v / records.length;
  return out;
}
