// The two gates that need no training: the trial answer's own probability (any policy that returns
// log-probs can drive it, an OpenAI-compatible endpoint included), and always-deep (never exits).
import type { Gate, TrialStep } from "../trials/trials.js";

/**
 * The gate whose confidence is the trial answer's probability, read at its first token (what an
 * answer of one token, as most of the shapes world's are, is decided by; known before the rest is decoded).
 */
export const probabilityGate: Gate = {
  name: "probability",
  confidences: (steps: readonly TrialStep[]) => steps.map((s) => s.firstProb),
};

/** The gate that never lets a trial answer out: the whole response every time. */
export const alwaysDeep: Gate = {
  name: "always_deep",
  confidences: (steps: readonly TrialStep[]) => steps.map(() => 0),
};
