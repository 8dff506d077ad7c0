import { checkPairs } from "./check.js";

/**
 * Area under the ROC curve of `scores` for telling `labels` true from false: the Mann–Whitney
 * statistic, P(score of a positive > score of a negative) with ties counted one half.
 */
export function auroc(scores: readonly number[], labels: readonly boolean[]): number {
  checkPairs("auroc", scores, labels);
  const order = scores.map((_, i) => i).sort((a, b) => scores[a] - scores[b]);
  // Ranks from 1, tied scores sharing the mean of their ranks.
  let positiveRanks = 0;
  let positives = 0;
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && scores[order[j + 1]] === scores[order[i]]) j++;
    const rank = (i + j + 2) / 2;
    for (let k = i; k <= j; k++) {
      if (labels[order[k]]) {
        positiveRanks += rank;
        positives++;
      }
    }
    i = j + 1;
  }
  const negatives = scores.length - positives;
  if (positives === 0 || negatives === 0) {
    throw new RangeError(`auroc: needs both outcomes, got ${positives} true and ${negatives} false labels`);
  }
  return (positiveRanks - (positives * (positives + 1)) / 2) / (positives * negatives);
}
