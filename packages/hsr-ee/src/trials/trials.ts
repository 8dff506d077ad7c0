// HSR-EE's trial answers, taken while the policy writes its response: the moment a step ends, the
// row is branched from its KV cache, its open tag is closed, `\boxed{` is forced, and the answer is
// decoded greedily until the box closes. The branch costs only its own tokens (the response prefix
// is never recomputed), every row of a batch branches in the same forward, and a gate may end a row
// with its trial answer (early exit) while the other rows go on.
import type { Message, StreamedToken, TokenLogprob } from "@sr2se/core";
import { type Branch, type BranchHook, decode, streamTokens, tokenLogprobsOf, type VLM } from "@sr2se/vlm";
import { boxClosedAt, completedSteps, trialSuffix } from "../steps/boundary.js";
import { splitSteps } from "../steps/split.js";

const STEP_END = /[.!?。！？\n>]/;

/** One trial answer: after step `step`, what the policy answers, how sure it is, and what it cost. */
export interface TrialStep {
  /** 0 for the immediate answer, then one a completed step. */
  step: number;
  /** The part the step sits in ("answer" for step 0). */
  part: "answer" | "description" | "think";
  /** The box's content. */
  answer: string;
  /** Whether the box closed within the answer budget. */
  closed: boolean;
  /** exp(Σ log-prob) of the answer's tokens, closing brace included. */
  probability: number;
  /** Mean and minimum token probability of those tokens. */
  meanProb: number;
  minProb: number;
  /** Mean entropy (nats) of their distributions. */
  entropy: number;
  /** Probability and entropy of the answer's first token: what a gate reads (known before the answer is decoded). */
  firstProb: number;
  firstEntropy: number;
  /** Response tokens generated before the trial. */
  at: number;
  /** Tokens generated to reach this answer: the response so far, the forced tokens and the answer. */
  tokens: number;
  /** Final hidden state after `\boxed{` (the state that chose the answer's first token). */
  hidden: Float32Array;
}

/** A confidence in [0, 1] that each trial answer is right. */
export interface Gate {
  readonly name: string;
  confidences(steps: readonly TrialStep[]): number[] | Promise<number[]>;
}

/** One request: chat messages and, for a visual question, the image's normalized pixels. */
export interface TrialRequest {
  messages: Message[];
  pixels?: Float32Array;
  /** Seeds this request's sampling alone (as `GenerateRequest.seed`). */
  seed?: number;
  /** Hears the response's tokens as they are sampled (not a trial's, nor an exit's forced tokens and answer). */
  onToken?: (token: StreamedToken) => void;
}

/** What a request produced: its response (ended by the gate or whole), its trial answers, and the exit. */
export interface TrialTrajectory {
  response: string;
  /** Tokens generated (forced tokens and the exit's answer included). */
  tokens: number;
  finishReason: "stop" | "length";
  steps: TrialStep[];
  /** The step whose trial answer the gate let out, when one did. */
  exitLevel?: number;
  /** The gate's confidence at the exit (or at the last trial of a response that ran to its end). */
  confidence?: number;
  /** Every trial's gate confidence, with a gate. */
  confidences?: number[];
  /** Each generated token's log-prob (an exit's forced tokens at 0), with `logprobs`. */
  tokenLogprobs?: TokenLogprob[];
}

/** Options of `generateTrials`. */
export interface TrialOptions {
  /** Longest response (default 256). */
  maxTokens?: number;
  /** Longest trial answer (default 32). */
  maxAnswerTokens?: number;
  /** Requests decoded together (default 32), grouped by prompt length. */
  batchSize?: number;
  /** Gate and threshold: a row ends with the first trial answer whose confidence reaches `tau`. */
  gate?: Gate;
  tau?: number;
  /** Sampling of the response itself (trial answers are greedy). */
  temperature?: number;
  topP?: number;
  topK?: number;
  seed?: number;
  /** Stop strings of the response. */
  stop?: string[];
  /** Return each token's log-prob (`TrialTrajectory.tokenLogprobs`), with this many alternatives. */
  logprobs?: boolean;
  topLogprobs?: number;
  /**
   * Gate on the answer's first token, with the forced tokens riding in the main forward (vlm's
   * `BranchHook.peek`; default true with a gate): only the trials the gate lets out are decoded
   * whole, so the other steps' `answer` is the first token and `closed` false.
   */
  peek?: boolean;
  /** Called after each batch with the requests done so far. */
  onProgress?: (done: number) => void;
}

/** Returns a trial step built from a finished branch and the step it follows. */
export function trialStepOf(branch: Branch, step: number, part: TrialStep["part"]): TrialStep {
  const probs = branch.logprobs.map(Math.exp);
  const n = Math.max(probs.length, 1);
  return {
    step,
    part,
    answer: branch.closed ? branch.text.slice(0, -1) : branch.text,
    closed: branch.closed,
    probability: Math.exp(branch.logprobs.reduce((a, b) => a + b, 0)),
    meanProb: probs.reduce((a, b) => a + b, 0) / n,
    minProb: probs.length > 0 ? Math.min(...probs) : 0,
    entropy: branch.entropies.reduce((a, b) => a + b, 0) / n,
    firstProb: probs[0] ?? 0,
    firstEntropy: branch.entropies[0] ?? 0,
    at: branch.at,
    tokens: branch.at + branch.forced.length + branch.ids.length,
    hidden: branch.hidden,
  };
}

/** Returns a branch hook that takes a trial answer after every step of every row and ends rows the gate lets out. */
export function trialHook(
  vlm: VLM,
  trajectories: TrialTrajectory[],
  opts: { maxAnswerTokens: number; gate?: Gate; tau?: number; peek?: boolean },
): BranchHook {
  const tok = vlm.tokenizer;
  const fired = new Map<number, number>();
  const pending = new Map<number, { step: number; part: TrialStep["part"] }>();
  return {
    maxTokens: opts.maxAnswerTokens,
    peek: opts.peek ?? false,
    until: boxClosedAt,
    fork(request, generated) {
      // a step can only have ended at a token that ends a sentence, a line or a tag
      if (generated.length > 0 && !STEP_END.test(tok.decode([generated[generated.length - 1]]))) return null;
      const text = generated.length > 0 ? tok.decode(generated as number[]) : "";
      // once the policy opens its own box it is answering: no trial after that
      if (text.includes("\\boxed{")) return null;
      const k = generated.length === 0 ? 0 : completedSteps(text);
      if (k <= (fired.get(request) ?? -1) || (k === 0 && generated.length > 0)) return null;
      fired.set(request, k);
      const steps = splitSteps(text);
      pending.set(request, { step: k, part: k === 0 ? "answer" : steps[k].part });
      return tok.encode(trialSuffix(k === 0 ? "" : text));
    },
    async decide(branches) {
      const steps = branches.map((b) => {
        const at = pending.get(b.request) as { step: number; part: TrialStep["part"] };
        return trialStepOf(b, at.step, at.part);
      });
      steps.forEach((s, j) => {
        trajectories[branches[j].request].steps.push(s);
      });
      if (!opts.gate) return [];
      const conf = await opts.gate.confidences(steps);
      const tau = opts.tau ?? Number.POSITIVE_INFINITY;
      const out: number[] = [];
      branches.forEach((b, j) => {
        const t = trajectories[b.request];
        t.confidences = [...(t.confidences ?? []), conf[j]];
        if (conf[j] >= tau) {
          t.exitLevel = steps[j].step;
          t.confidence = conf[j];
          out.push(b.request);
        }
      });
      return out;
    },
  };
}

/**
 * Generates a response to each request and takes a trial answer after each of its steps (batched, one
 * KV cache); with a gate and τ, a row ends with the first trial answer the gate lets out.
 */
export async function generateTrials(
  vlm: VLM,
  requests: TrialRequest[],
  opts: TrialOptions = {},
): Promise<TrialTrajectory[]> {
  const batchSize = Math.max(1, opts.batchSize ?? 32);
  const prompts = requests.map((r) => ({
    ids: vlm.promptIds(r.messages, r.pixels !== undefined),
    pixels: r.pixels,
  }));
  const trajectories: TrialTrajectory[] = requests.map(() => ({
    response: "",
    tokens: 0,
    finishReason: "length",
    steps: [],
  }));
  const hook = trialHook(vlm, trajectories, {
    maxAnswerTokens: opts.maxAnswerTokens ?? 32,
    gate: opts.gate,
    tau: opts.tau,
    peek: opts.peek ?? opts.gate !== undefined,
  });
  const order = prompts.map((_, i) => i).sort((a, b) => prompts[a].ids.length - prompts[b].ids.length);
  const requestSeeds = requests.some((r) => r.seed !== undefined) ? requests.map((r) => r.seed) : undefined;
  const onToken = requests.some((r) => r.onToken)
    ? streamTokens(
        vlm.tokenizer,
        requests.map((r) => r.onToken),
      )
    : undefined;
  const topLogprobs = opts.logprobs && opts.topLogprobs ? opts.topLogprobs : undefined;
  for (let s = 0; s < order.length; s += batchSize) {
    const chunk = order.slice(s, s + batchSize);
    const decoded = await decode(
      vlm,
      vlm.tokenizer,
      chunk.map((i) => prompts[i]),
      {
        maxTokens: opts.maxTokens ?? 256,
        seed: opts.seed ?? 0,
        requestSeeds,
        stop: opts.stop ?? [],
        temperature: opts.temperature,
        topP: opts.topP,
        topK: opts.topK,
        branches: hook,
        ...(topLogprobs ? { topLogprobs } : {}),
        ...(onToken ? { onToken } : {}),
      },
      chunk,
    );
    decoded.forEach((d, j) => {
      const t = trajectories[chunk[j]];
      t.response = d.text;
      t.tokens = d.ids.length;
      t.finishReason = d.finishReason;
      if (opts.logprobs) t.tokenLogprobs = tokenLogprobsOf(vlm.tokenizer, d);
      if (opts.gate && t.exitLevel === undefined) t.confidence = t.confidences?.at(-1);
    });
    opts.onProgress?.(Math.min(s + batchSize, order.length));
  }
  return trajectories;
}

/** Returns a trajectory as Prediction fields: the response, its tokens, and with a gate the exit and confidence. */
export function predictionOf(t: TrialTrajectory): {
  response: string;
  tokens: number;
  exit_level?: number;
  confidence?: number;
} {
  return {
    response: t.response,
    tokens: t.tokens,
    ...(t.exitLevel !== undefined ? { exit_level: t.exitLevel } : {}),
    ...(t.confidence !== undefined ? { confidence: t.confidence } : {}),
  };
}
