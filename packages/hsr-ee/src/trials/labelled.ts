// Trial answers graded against the ground truth: what the gate learns from, what τ is calibrated
// on, and what the accuracy-vs-tokens curve is drawn from. Each trajectory's last step is the whole
// response (always-deep), so a threshold no trial reaches exits there.
import type { VLM } from "@sr2se/vlm";
import type { StepOutcome } from "../metrics/exit-curve.js";
import { extractBoxedContent } from "../reward/boxed.js";
import { gradeAnswer } from "../reward/grader.js";
import { generateTrials, type TrialOptions, type TrialStep } from "./trials.js";

/** A question with its ground truth. */
export interface GradedQuestion {
  id: string;
  image: string;
  question: string;
  answer: string;
  family?: string;
}

/** A question's trials, each graded, and its whole response graded (always-deep). */
export interface LabelledTrajectory {
  id: string;
  family?: string;
  response: string;
  tokens: number;
  deepCorrect: boolean;
  steps: TrialStep[];
  correct: boolean[];
}

/** Returns the graded trial trajectories of questions (trials after every step, batched, images read a batch at a time). */
export async function labelledTrajectories(
  vlm: VLM,
  questions: readonly GradedQuestion[],
  opts: Omit<TrialOptions, "gate" | "tau" | "peek"> = {},
): Promise<LabelledTrajectory[]> {
  const out: LabelledTrajectory[] = [];
  const chunk = Math.max(1, opts.batchSize ?? 32) * 4;
  for (let s = 0; s < questions.length; s += chunk) {
    const part = questions.slice(s, s + chunk);
    const pixels = await Promise.all(part.map((q) => vlm.pixelsOf(q.image)));
    const trajectories = await generateTrials(
      vlm,
      part.map((q, i) => ({ messages: [{ role: "user", content: q.question }], pixels: pixels[i] })),
      { ...opts, onProgress: undefined },
    );
    trajectories.forEach((t, i) => {
      const q = part[i];
      out.push({
        id: q.id,
        family: q.family,
        response: t.response,
        tokens: t.tokens,
        deepCorrect: gradeAnswer(extractBoxedContent(t.response), q.answer),
        steps: t.steps,
        correct: t.steps.map((st) => st.closed && gradeAnswer(st.answer, q.answer)),
      });
    });
    opts.onProgress?.(out.length);
  }
  return out;
}

/** Returns a trajectory as the exit curve sees it: each trial with its confidence, then the whole response (confidence 1). */
export function stepOutcomes(t: LabelledTrajectory, confidences: readonly number[]): StepOutcome[] {
  return [
    ...t.steps.map((s, k) => ({ confidence: confidences[k], correct: t.correct[k], tokens: s.tokens })),
    { confidence: 1, correct: t.deepCorrect, tokens: t.tokens },
  ];
}
