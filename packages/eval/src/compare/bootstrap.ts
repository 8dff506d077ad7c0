import { Rng } from "@sr2se/core";
import type { SummedStatistic } from "./statistic.js";

/** An estimate with its percentile confidence interval. */
export interface Interval {
  value: number;
  low: number;
  high: number;
}

export interface PairedBootstrapResult {
  baseline: Interval;
  ours: Interval;
  /** ours − baseline, or baseline − ours where lower is better: positive is a gain. */
  improvement: Interval;
  /** Share of resamples where the improvement is ≤ 0 (a one-sided bootstrap p-value). */
  pValue: number;
  n: number;
  iterations: number;
  seed: number | string;
  confidence: number;
}

export interface BootstrapOptions {
  iterations?: number;
  seed?: number | string;
  confidence?: number;
}

function matrix(samples: readonly Record<string, unknown>[], stat: SummedStatistic): Float64Array {
  const m = new Float64Array(samples.length * stat.width);
  const row = new Float64Array(stat.width);
  samples.forEach((s, i) => {
    row.fill(0);
    stat.row(s, row);
    m.set(row, i * stat.width);
  });
  return m;
}

/** The q-quantile of sorted values, linearly interpolated (numpy's default). */
function quantile(sorted: Float64Array, q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return (sorted[lo] as number) + ((sorted[hi] as number) - (sorted[lo] as number)) * (pos - lo);
}

/**
 * A seeded paired bootstrap over samples: each resample draws n sample indices with replacement and scores
 * baseline and ours on the same draw. Returns both scores and the improvement with percentile intervals.
 * `base` and `ours` must list the same samples in the same order.
 */
export function pairedBootstrap(
  base: readonly Record<string, unknown>[],
  ours: readonly Record<string, unknown>[],
  stat: SummedStatistic,
  options: BootstrapOptions = {},
): PairedBootstrapResult {
  const n = base.length;
  if (n === 0 || ours.length !== n)
    throw new Error(
      `pairedBootstrap: needs the same non-zero number of samples (got ${n} and ${ours.length})`,
    );
  // one group: the pooled bootstrap's mean over groups is that group's statistic
  return pooledPairedBootstrap([{ base, ours }], stat, options);
}

/** One seed's (or run's) samples of a pooled comparison: `base` and `ours` list the same samples in the same order. */
export interface PairedGroup {
  base: readonly Record<string, unknown>[];
  ours: readonly Record<string, unknown>[];
}

/**
 * A seeded paired bootstrap pooled over groups (seeds): the estimate is the mean over groups of each group's
 * statistic, and each resample redraws every group's samples within that group (pairs stay paired, groups
 * keep their sizes), so the interval covers the sampling noise of every seed's benchmark together.
 */
export function pooledPairedBootstrap(
  groups: readonly PairedGroup[],
  stat: SummedStatistic,
  options: BootstrapOptions = {},
): PairedBootstrapResult {
  if (groups.length === 0) throw new Error("pooledPairedBootstrap: needs at least one group");
  for (const [g, { base, ours }] of groups.entries())
    if (base.length === 0 || ours.length !== base.length)
      throw new Error(
        `pooledPairedBootstrap: group ${g} needs the same non-zero number of samples (got ${base.length} and ${ours.length})`,
      );
  const iterations = options.iterations ?? 2000;
  const seed = options.seed ?? 0;
  const confidence = options.confidence ?? 0.95;
  const w = stat.width;
  const sign = stat.lowerIsBetter ? -1 : 1;
  const mats = groups.map(({ base, ours }) => ({
    n: base.length,
    mb: matrix(base, stat),
    mo: matrix(ours, stat),
  }));
  const full = (m: Float64Array, n: number) => {
    const s = new Float64Array(w);
    for (let i = 0; i < n; i++)
      for (let k = 0; k < w; k++) s[k] = (s[k] as number) + (m[i * w + k] as number);
    return stat.fromSums(s);
  };
  const b0 = mats.reduce((t, g) => t + full(g.mb, g.n), 0) / mats.length;
  const o0 = mats.reduce((t, g) => t + full(g.mo, g.n), 0) / mats.length;
  const rng = new Rng(seed);
  const bs = new Float64Array(iterations);
  const os = new Float64Array(iterations);
  const ds = new Float64Array(iterations);
  const sb = new Float64Array(w);
  const so = new Float64Array(w);
  let notBetter = 0;
  for (let it = 0; it < iterations; it++) {
    let tb = 0;
    let to = 0;
    for (const { n, mb, mo } of mats) {
      sb.fill(0);
      so.fill(0);
      for (let j = 0; j < n; j++) {
        const i = rng.int(0, n) * w;
        for (let k = 0; k < w; k++) {
          sb[k] = (sb[k] as number) + (mb[i + k] as number);
          so[k] = (so[k] as number) + (mo[i + k] as number);
        }
      }
      tb += stat.fromSums(sb);
      to += stat.fromSums(so);
    }
    bs[it] = tb / mats.length;
    os[it] = to / mats.length;
    ds[it] = sign * ((os[it] as number) - (bs[it] as number));
    if ((ds[it] as number) <= 0) notBetter++;
  }
  const alpha = (1 - confidence) / 2;
  const interval = (value: number, xs: Float64Array): Interval => {
    const sorted = xs.slice().sort();
    return { value, low: quantile(sorted, alpha), high: quantile(sorted, 1 - alpha) };
  };
  return {
    baseline: interval(b0, bs),
    ours: interval(o0, os),
    improvement: interval(sign * (o0 - b0), ds),
    pValue: notBetter / iterations,
    n: mats.reduce((t, g) => t + g.n, 0),
    iterations,
    seed,
    confidence,
  };
}
