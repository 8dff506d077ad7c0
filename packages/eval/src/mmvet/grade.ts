import { setTimeout as sleep } from "node:timers/promises";
import { pyFloat, pyStrip } from "../mathvista/python-number.js";
import { isRateLimitError, type JudgeReply, type MmVetJudge } from "./judge.js";
import { buildGradeQuery } from "./prompt.js";
import type { MmVetMode, MmVetSample } from "./types.js";

/** The grade of one sample in one run, as the official grade file stores it. */
export interface GradeOutcome {
  score: number;
  /** The reply kept: its first space-separated token when it parsed, else the last raw reply. */
  content: string | null;
  /** Model named by the last reply. */
  model: string;
  /** Judge calls made for this grade (1 when the first reply parsed). */
  calls: number;
  /** True when every try failed to parse and the official fallback score 0.0 was given. */
  fallback: boolean;
}

export interface GradeOptions {
  mode?: MmVetMode;
  /** Aborts the grading (its judge requests and its rate-limit sleeps). */
  signal?: AbortSignal;
  /** Grader prompt (default MMVET_GRADER_PROMPT). */
  prompt?: string;
  /** max_tokens of each call (3 in the official script). */
  maxTokens?: number;
  /** Wait after a rate-limit error before grading the sample again (official: 30 s). */
  rateLimitSleepMs?: number;
  /** Rate-limit restarts allowed per grade (official: unlimited). */
  maxRateLimitRestarts?: number;
}

/**
 * The score in a judge reply, or null: officially float() of the reply's first space-separated
 * token, accepted in [0, 1] (NaN slips through, as there); robust mode takes the first number
 * anywhere in the reply and refuses NaN.
 */
export function parseJudgeScore(
  content: string | null,
  mode: MmVetMode = "official",
): { token: string; score: number } | null {
  if (content === null) return null;
  if (mode === "robust") {
    const m = /-?(?:\d+(?:\.\d*)?|\.\d+)/.exec(content);
    if (!m) return null;
    const score = Number(m[0]);
    return score >= 0 && score <= 1 ? { token: m[0], score } : null;
  }
  const token = pyStrip(content.split(" ")[0] as string);
  const score = pyFloat(token);
  if (score === null || score > 1 || score < 0) return null;
  return { token, score };
}

/**
 * One sample's grade in one run, by mm-vet_evaluator.py's loop: ask at temperature 0; on an
 * unparsable reply ask again with the "(digit)" suffix, raising the temperature by 0.5 after each
 * retry; after the fifth retry give 0.0 without reading its reply. A rate-limit error waits and
 * starts over, keeping the current prompt and temperature (the robust mode resets them).
 */
export async function gradeSample(
  judge: MmVetJudge,
  sample: MmVetSample,
  prediction: string,
  run: number,
  options: GradeOptions = {},
): Promise<GradeOutcome> {
  const mode = options.mode ?? "official";
  const maxTokens = options.maxTokens ?? 3;
  const first = buildGradeQuery(sample.question, sample.answer, prediction, { prompt: options.prompt });
  const retry = buildGradeQuery(sample.question, sample.answer, prediction, {
    prompt: options.prompt,
    retry: true,
  });
  let prompt = first;
  let temperature = 0;
  let calls = 0;
  let restarts = 0;
  const ask = async (): Promise<JudgeReply> => {
    calls++;
    return judge.judge({ prompt, temperature, maxTokens, run, sample, prediction, signal: options.signal });
  };
  for (;;) {
    try {
      let reply = await ask();
      let tries = 1;
      for (;;) {
        const parsed = parseJudgeScore(reply.content, mode);
        if (parsed)
          return { score: parsed.score, content: parsed.token, model: reply.model, calls, fallback: false };
        prompt = retry;
        reply = await ask();
        tries++;
        temperature += 0.5;
        if (tries > 5) {
          const last = mode === "robust" ? parseJudgeScore(reply.content, mode) : null;
          if (last)
            return { score: last.score, content: last.token, model: reply.model, calls, fallback: false };
          return { score: 0, content: reply.content, model: reply.model, calls, fallback: true };
        }
      }
    } catch (err) {
      if (!isRateLimitError(err) || restarts >= (options.maxRateLimitRestarts ?? Number.POSITIVE_INFINITY))
        throw err;
      restarts++;
      await sleep(options.rateLimitSleepMs ?? 30_000, undefined, { signal: options.signal });
      if (mode === "robust") {
        prompt = first;
        temperature = 0;
      }
    }
  }
}
