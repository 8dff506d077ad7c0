import type { MmVetSample } from "./types.js";

/** One grading request: what the official script sends to GPT-4, plus the sample for local judges. */
export interface JudgeRequest {
  /** The full user message (grader prompt, few-shot table and the sample's row). */
  prompt: string;
  temperature: number;
  /** 3 in the official script. */
  maxTokens: number;
  /** Run index (MM-Vet grades every sample once a run; the paper uses 5 runs). */
  run: number;
  sample: MmVetSample;
  prediction: string;
  /** Aborted when the scoring stops (another sample's fatal error): a judge passes it to its requests. */
  signal?: AbortSignal;
}

/** A judge's reply: the message content (null where the server sent none) and the model that wrote it. */
export interface JudgeReply {
  content: string | null;
  model: string;
}

/** A grader of MM-Vet answers: an LLM behind an API, or a local rule (then `official` is false). */
export interface MmVetJudge {
  /** Model name; part of every cache key. */
  readonly model: string;
  /** False for judges that are not the benchmark's GPT-4 grader (results are labelled so). */
  readonly official: boolean;
  judge(request: JudgeRequest): Promise<JudgeReply>;
}

/** True for an error that means "rate limited" (HTTP 429), which the official script sleeps on and retries. */
export function isRateLimitError(err: unknown): boolean {
  return typeof err === "object" && err !== null && (err as { status?: unknown }).status === 429;
}
