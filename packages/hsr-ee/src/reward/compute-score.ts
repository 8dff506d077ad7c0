// Vision-SR1's reward (train_examples/reward_function/see_think_selfReward.py, the reward of its
// selfReward_config.yaml): accuracy and format of the response, plus the accuracy of the answer that
// the same policy gives from the response's description alone.
import { extractBoxedContent } from "./boxed.js";
import { gradeAnswer } from "./grader.js";
import { PY_SPACE, pyStrip } from "./python.js";

const S = `[${PY_SPACE}]*`;
// re.fullmatch with DOTALL: every `.*?` may stretch to anything, so text after the box passes as
// long as the whole response still ends in "}" (and whitespace).
const FORMAT = new RegExp(
  `^${S}<description>[\\s\\S]*?</description>${S}<think>[\\s\\S]*?</think>${S}\\\\boxed\\{[\\s\\S]*?\\}${S}$`,
);
const DESCRIPTION_FORMAT = new RegExp(`^<think>[\\s\\S]*?</think>${S}\\\\boxed\\{[\\s\\S]*?\\}${S}$`);
const DESCRIPTION = /<description>([\s\S]*?)<\/description>/;

/** The scores of one response, named as Vision-SR1 logs them. */
export interface VisionSr1Score {
  /** (1 − w)·accuracy + w·format + description_accuracy: the reward GRPO trains on, in [0, 2]. */
  overall: number;
  /** 1 when the response is `<description>…</description><think>…</think>\boxed{…}`, else 0. */
  format: number;
  /** 1 when the last `\boxed{}` of the response grades correct against the ground truth. */
  accuracy: number;
  /** Vision-SR1's `format_reward` of the description answer (logged only; see computeScore). */
  description_format: number;
  /** 1 when the last `\boxed{}` of the description answer grades correct: the self-reward. */
  description_accuracy: number;
}

/** One response to score. */
export interface ScoreInput {
  /** The policy's response to the image and question. */
  response: string;
  /** The ground-truth answer. */
  groundTruth: string;
  /**
   * What the same policy answered from the response's description alone: a second, text-only pass
   * whose prompt holds `extractDescription(response)` and the question, and no image. Vision-SR1
   * asks for a `<think>` block and a `\boxed{}` answer there.
   */
  descriptionAnswer: string;
}

/** 1 when `predict` is `<description>…</description><think>…</think>\boxed{…}` (Vision-SR1's `format_reward`). */
export function formatReward(predict: string): number {
  return FORMAT.test(predict) ? 1 : 0;
}

/** 1 when `predict` is `<think>…</think>\boxed{…}` (Vision-SR1's `description_format_reward`, which its reward defines and leaves unused). */
export function descriptionFormatReward(predict: string): number {
  return DESCRIPTION_FORMAT.test(predict) ? 1 : 0;
}

/** 1 when the last `\boxed{}` of `predict` grades correct against `groundTruth` (Vision-SR1's `accuracy_reward`). */
export function accuracyReward(predict: string, groundTruth: string): number {
  return gradeAnswer(extractBoxedContent(predict), groundTruth) ? 1 : 0;
}

/** The stripped content of the first `<description>…</description>`, or the whole text when there is none. */
export function extractDescription(response: string): string {
  const m = DESCRIPTION.exec(response);
  return m === null ? response : pyStrip(m[1]);
}

/**
 * Vision-SR1's `compute_score` for one response: whitespace around `<`, `>` and `/` is removed from
 * the response first (never from the description answer), then
 * overall = (1 − formatWeight)·accuracy + formatWeight·format + description_accuracy.
 *
 * Like the original, `description_format` applies the full response format to the description
 * answer (so a `<think>…</think>\boxed{}` answer scores 0 there) and does not enter `overall`.
 */
export function computeScore(input: ScoreInput, formatWeight = 0.1): VisionSr1Score {
  if (!(formatWeight >= 0 && formatWeight <= 1)) {
    throw new RangeError(`computeScore: formatWeight must be in [0, 1], got ${formatWeight}`);
  }
  const predict = input.response.replace(new RegExp(`${S}([<>/])${S}`, "g"), "$1");
  const format = formatReward(predict);
  const accuracy = accuracyReward(predict, input.groundTruth);
  const descriptionFormat = formatReward(input.descriptionAnswer);
  const descriptionAccuracy = accuracyReward(input.descriptionAnswer, input.groundTruth);
  return {
    overall: (1 - formatWeight) * accuracy + formatWeight * format + descriptionAccuracy,
    format,
    accuracy,
    description_format: descriptionFormat,
    description_accuracy: descriptionAccuracy,
  };
}
