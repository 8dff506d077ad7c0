/** "official" reproduces the benchmark's own code, quirks included; "robust" fixes the quirks (see README). */
export type EvalMode = "official" | "robust";

/** A per-sample value that `compare` resamples; the headline of most benchmarks is 100 × mean(score). */
export interface SampleScore {
  id: string;
  score: number;
}

/** The number a paper's table shows for a benchmark, in percent. */
export interface Headline {
  metric: string;
  value: number;
}
