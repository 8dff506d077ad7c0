// `--tau auto`: the smallest threshold whose accuracy stays within δ of always-deep, on held-out
// trajectories, guarded against the held-out set's noise by a paired bootstrap: a threshold counts
// only when the one-sided lower confidence bound of (accuracy at τ − always-deep's accuracy) is
// at least −δ, for it and every larger threshold of the grid (so one lucky low τ cannot win).
import { Rng } from "@sr2se/core";
import { exitStep, type StepOutcome } from "./exit-curve.js";

/** The threshold `chooseThreshold` picked, with what it rests on. */
export interface ThresholdChoice {
  tau: number;
  /** Accuracy and mean tokens at τ, and always-deep's (the last step of each trajectory). */
  accuracy: number;
  meanTokens: number;
  deepAccuracy: number;
  deepTokens: number;
  /** The bootstrap lower bound of accuracy(τ) − deepAccuracy. */
  lowerBound: number;
  delta: number;
  level: number;
  resamples: number;
  questions: number;
}

/** Options of `chooseThreshold`. */
export interface ThresholdOptions {
  /** Accuracy allowed below always-deep, as a fraction (default 0.01: one point). */
  delta?: number;
  /** Thresholds to consider (default 0.05, 0.10, …, 0.95, 0.99). */
  thresholds?: readonly number[];
  /** Confidence level of the one-sided bound (default 0.95) and bootstrap resamples (default 1000). */
  level?: number;
  resamples?: number;
  seed?: number;
}

/** The default grid of thresholds: 0.05 to 0.95 by 0.05, then 0.99. */
export const DEFAULT_THRESHOLDS: readonly number[] = [
  ...Array.from({ length: 19 }, (_, i) => Math.round((i + 1) * 5) / 100),
  0.99,
];

/**
 * Returns the smallest τ whose accuracy stays within δ of always-deep (each trajectory's last step)
 * by the paired bootstrap's lower bound, for it and every larger grid threshold; 1 when none does.
 */
export function chooseThreshold(
  trajectories: readonly (readonly StepOutcome[])[],
  opts: ThresholdOptions = {},
): ThresholdChoice {
  if (trajectories.length === 0) throw new RangeError("chooseThreshold: no trajectories");
  const delta = opts.delta ?? 0.01;
  const level = opts.level ?? 0.95;
  const resamples = opts.resamples ?? 1000;
  const grid = [...(opts.thresholds ?? DEFAULT_THRESHOLDS)].sort((a, b) => b - a);
  const n = trajectories.length;
  const deep = trajectories.map((s) => s[s.length - 1]);
  const deepAccuracy = deep.filter((s) => s.correct).length / n;
  const deepTokens = deep.reduce((a, s) => a + s.tokens, 0) / n;
  // the same resampled question sets for every τ (a paired comparison)
  const rng = new Rng(`threshold:${opts.seed ?? 0}`);
  const draws = Array.from({ length: resamples }, () =>
    Int32Array.from({ length: n }, () => Math.floor(rng.next() * n)),
  );
  let choice: ThresholdChoice = {
    tau: 1,
    accuracy: deepAccuracy,
    meanTokens: deepTokens,
    deepAccuracy,
    deepTokens,
    lowerBound: 0,
    delta,
    level,
    resamples,
    questions: n,
  };
  for (const tau of grid) {
    const exits = trajectories.map((s) => s[exitStep(s, tau)]);
    const diff = exits.map((s, i) => (s.correct ? 1 : 0) - (deep[i].correct ? 1 : 0));
    const means = draws.map((d) => d.reduce((a, i) => a + diff[i], 0) / n).sort((a, b) => a - b);
    const lowerBound = means[Math.floor((1 - level) * resamples)];
    if (lowerBound < -delta) break;
    choice = {
      ...choice,
      tau,
      accuracy: exits.filter((s) => s.correct).length / n,
      meanTokens: exits.reduce((a, s) => a + s.tokens, 0) / n,
      lowerBound,
    };
  }
  return choice;
}
