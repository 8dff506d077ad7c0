import type { PopeResult } from "../pope/score.js";

/** POPE's false-positive rate, FP / (FP + TN), per split and averaged: how often an absent object gets a "yes". */
export function popeFalsePositiveRate(result: Pick<PopeResult, "splits" | "average">): {
  splits: Record<string, number>;
  average: number;
} {
  const splits: Record<string, number> = {};
  for (const [name, m] of Object.entries(result.splits)) splits[name] = m.falsePositiveRate;
  return { splits, average: result.average.falsePositiveRate };
}
