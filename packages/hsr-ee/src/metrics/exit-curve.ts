/** One step of one question's trajectory: the gate's confidence there and the trial answer's outcome. */
export interface StepOutcome {
  /** The gate's confidence that the trial answer after this step is right, in [0, 1]. */
  confidence: number;
  /** Whether the trial answer after this step is right. */
  correct: boolean;
  /** Tokens generated to reach this step's answer (cumulative, answer included). */
  tokens: number;
}

/** Accuracy and cost of early exit at one threshold. */
export interface ExitPoint {
  threshold: number;
  /** Fraction of questions answered correctly at their exit step. */
  accuracy: number;
  /** Mean tokens spent up to the exit. */
  meanTokens: number;
  /** Mean index of the exit step. */
  meanExitStep: number;
}

/** The step a question exits at: the first whose confidence reaches τ, else the last. */
export function exitStep(steps: readonly StepOutcome[], threshold: number): number {
  const at = steps.findIndex((s) => s.confidence >= threshold);
  return at < 0 ? steps.length - 1 : at;
}

/** Accuracy against tokens over a sweep of thresholds: one point a threshold, in the order given. */
export function accuracyTokenCurve(
  trajectories: readonly (readonly StepOutcome[])[],
  thresholds: readonly number[],
): ExitPoint[] {
  if (trajectories.length === 0) throw new RangeError("accuracyTokenCurve: no trajectories");
  trajectories.forEach((steps, q) => {
    if (steps.length === 0) throw new RangeError(`accuracyTokenCurve: trajectory ${q} has no steps`);
    steps.forEach((s, k) => {
      if (!(s.confidence >= 0 && s.confidence <= 1) || !(s.tokens >= 0)) {
        throw new RangeError(
          `accuracyTokenCurve: trajectory ${q} step ${k} has confidence ${s.confidence} and tokens ${s.tokens}`,
        );
      }
    });
  });
  return thresholds.map((threshold) => {
    if (Number.isNaN(threshold)) throw new RangeError("accuracyTokenCurve: a threshold is NaN");
    let correct = 0;
    let tokens = 0;
    let exits = 0;
    for (const steps of trajectories) {
      const k = exitStep(steps, threshold);
      if (steps[k].correct) correct++;
      tokens += steps[k].tokens;
      exits += k;
    }
    const n = trajectories.length;
    return { threshold, accuracy: correct / n, meanTokens: tokens / n, meanExitStep: exits / n };
  });
}
