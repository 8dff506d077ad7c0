// HSR-EE's trial answers, taken while the policy writes its response: the moment a step ends, the
// row is branched from its KV cache, its open tag is closed, `\boxed{` is forced, and the answer is
// decoded greedily until the box closes. The branch costs only its own tokens (the response prefix
// is never recomputed), every row of a batch branches in the same forward, and a gate may end a row
// with its trial answer (early exit) while the other rows go on.
import type { Message } from "@sr2se/core";
import { type Branch, type BranchHook, decode, type VLM } from "@sr2se/vlm";
import { boxClosedAt, completedSteps, trialSuffix } from "../steps/boundary.js";
import { splitSteps } from "../steps/split.js";

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
    tokens: branch.at + branch.forced.length + branch.ids.length,
    hidden: branch.hidden,
  };
}

/** Returns a branch hook that takes a trial answer after every step of every row and ends rows the gate lets out. */
export function trialHook(
  vlm: VLM,
  trajectories: TrialTrajectory[],
  opts: { maxAnswerTokens: number; gate?: Gate; tau?: number },
): BranchHook {
  const tok = vlm.tokenizer;
  const fired = new Map<number, number>();
  const pending = new Map<number, { step: number; part: TrialStep["part"] }>();
  return {
    maxTokens: opts.maxAnswerTokens,
    until: boxClosedAt,
    fork(request, generated) {
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
        if (conf[j] >= tau && steps[j].closed) {
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
  });
  const order = prompts.map((_, i) => i).sort((a, b) => prompts[a].ids.length - prompts[b].ids.length);
  for (let s = 0; s < order.length; s += batchSize) {
    const chunk = order.slice(s, s + batchSize);
    const decoded = await decode(
      vlm,
      vlm.tokenizer,
      chunk.map((i) => prompts[i]),
      {
        maxTokens: opts.maxTokens ?? 256,
        seed: opts.seed ?? 0,
        stop: [],
        temperature: opts.temperature,
        topP: opts.topP,
        topK: opts.topK,
        branches: hook,
      },
      chunk,
    );
    decoded.forEach((d, j) => {
      const t = trajectories[chunk[j]];
      t.response = d.text;
      t.tokens = d.ids.length;
      t.finishReason = d.finishReason;
      if (opts.gate && t.exitLevel === undefined) t.confidence = t.confidences?.at(-1);
    });
    opts.onProgress?.(Math.min(s + batchSize, order.length));
  }
  return trajectories;
}
