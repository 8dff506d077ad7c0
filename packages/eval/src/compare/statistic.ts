import { POPE_SPLITS } from "../pope/score.js";

/**
 * A benchmark's headline as a function of per-sample vectors summed over a (re)sample: each sample becomes a
 * row of `width` numbers, and `fromSums` turns column sums into the headline (percent). Ratios of sums cover
 * accuracy, POPE's F1 per split and CHAIR_i alike, and make a bootstrap resample cost one pass of additions.
 */
export interface SummedStatistic {
  metric: string;
  width: number;
  lowerIsBetter: boolean;
  row(sample: Record<string, unknown>, out: Float64Array): void;
  fromSums(sums: Float64Array): number;
}

/** 100 × mean(score): accuracy and every benchmark whose per-sample score averages to its headline. */
export function meanScoreStatistic(metric = "accuracy"): SummedStatistic {
  return {
    metric,
    width: 2,
    lowerIsBetter: false,
    row(sample, out) {
      const s = Number(sample.score);
      if (!Number.isFinite(s)) throw new Error(`sample ${String(sample.id)}: field "score" is not a number`);
      out[0] = s;
      out[1] = 1;
    },
    fromSums: (sums) => (100 * (sums[0] as number)) / (sums[1] as number),
  };
}

/** Returns the splits present in POPE's order (others after it), and the index of a sample's split. */
function popeSplits(splits: readonly string[]) {
  const order = [
    ...POPE_SPLITS.filter((s) => splits.includes(s)),
    ...splits.filter((s) => !(POPE_SPLITS as readonly string[]).includes(s)),
  ];
  const index = new Map(order.map((s, i) => [s, i]));
  const splitOf = (sample: Record<string, unknown>): number => {
    const k = index.get(String(sample.split));
    if (k === undefined)
      throw new Error(`sample ${String(sample.id)}: unknown split ${String(sample.split)}`);
    return k;
  };
  return { order, splitOf };
}

/** POPE's F1 averaged over the splits present (percent); a degenerate split counts 0, as robust mode does. */
export function popeF1Statistic(splits: readonly string[]): SummedStatistic {
  const { order, splitOf } = popeSplits(splits);
  return {
    metric: "F1",
    width: order.length * 3,
    lowerIsBetter: false,
    row(sample, out) {
      const k = splitOf(sample);
      const pred = Number(sample.pred);
      const label = Number(sample.label);
      out[3 * k] = pred === 1 && label === 1 ? 1 : 0; // TP
      out[3 * k + 1] = pred === 1 && label === 0 ? 1 : 0; // FP
      out[3 * k + 2] = pred === 0 && label === 1 ? 1 : 0; // FN
    },
    fromSums(sums) {
      let total = 0;
      for (let k = 0; k < order.length; k++) {
        const tp = sums[3 * k] as number;
        const fp = sums[3 * k + 1] as number;
        const fn = sums[3 * k + 2] as number;
        const p = tp + fp === 0 ? 0 : tp / (tp + fp);
        const r = tp + fn === 0 ? 0 : tp / (tp + fn);
        total += p + r === 0 ? 0 : (2 * p * r) / (p + r);
      }
      return (100 * total) / order.length;
    },
  };
}

/** POPE's false-positive rate FP / (FP + TN) averaged over the splits present (percent, lower is better). */
export function popeFalsePositiveStatistic(splits: readonly string[]): SummedStatistic {
  const { order, splitOf } = popeSplits(splits);
  return {
    metric: "FPR",
    width: order.length * 2,
    lowerIsBetter: true,
    row(sample, out) {
      const k = splitOf(sample);
      if (Number(sample.label) !== 0) return;
      out[2 * k] = Number(sample.pred) === 1 ? 1 : 0; // FP
      out[2 * k + 1] = 1; // FP + TN
    },
    fromSums(sums) {
      let total = 0;
      for (let k = 0; k < order.length; k++) {
        const negatives = sums[2 * k + 1] as number;
        total += negatives === 0 ? 0 : (sums[2 * k] as number) / negatives;
      }
      return (100 * total) / order.length;
    },
  };
}

/** CHAIR_i (percent, lower is better): hallucinated mentions over all mentions. */
export function chairStatistic(): SummedStatistic {
  return {
    metric: "CHAIR_i",
    width: 2,
    lowerIsBetter: true,
    row(sample, out) {
      out[0] = Number(sample.hallucinated);
      out[1] = Number(sample.mentions);
    },
    fromSums: (sums) => ((sums[1] as number) === 0 ? 0 : (100 * (sums[0] as number)) / (sums[1] as number)),
  };
}

/** The statistic `compare` resamples for a result: by its `bench`, else the mean of `score`. */
export function statisticFor(result: {
  bench?: string;
  headline?: { metric?: string };
  samples: readonly Record<string, unknown>[];
}): SummedStatistic {
  if (result.bench === "pope")
    return popeF1Statistic([...new Set(result.samples.map((s) => String(s.split)))]);
  if (result.bench === "chair") return chairStatistic();
  return meanScoreStatistic(result.headline?.metric ?? "accuracy");
}
