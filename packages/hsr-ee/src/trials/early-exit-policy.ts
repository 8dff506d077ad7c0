// A policy that answers with HSR-EE's early exit: the VLM writes its response, a trial answer is
// taken after each step, and a row ends with the first one the gate lets out. It is a
// VisionLanguagePolicy, so whatever drives a policy (`sr2se serve --gate`, IPR) can exit early.
import type { GenerateOptions, GenerateRequest, Generation, VisionLanguagePolicy } from "@sr2se/core";
import type { VLM } from "@sr2se/vlm";
import { type Gate, generateTrials } from "./trials.js";

/** A generation that may have exited early: after which step, how sure the gate was, and why it ended. */
export interface EarlyExitGeneration extends Generation {
  tokens: number;
  finishReason: "stop" | "length";
  /** The step whose trial answer the gate let out; absent when the response ran to its end. */
  exitLevel?: number;
  /** The gate's confidence at the exit (or at the last trial). */
  confidence?: number;
}

/** The VLM as a policy whose rows end when `gate` clears `tau` (trial answers are greedy). */
export class EarlyExitPolicy implements VisionLanguagePolicy {
  constructor(
    readonly vlm: VLM,
    readonly gate: Gate,
    readonly tau: number,
    private readonly batchSize = 32,
  ) {}

  /** Returns each request's response, ended by the gate or whole, with its exit. */
  async generate(requests: GenerateRequest[], options: GenerateOptions = {}): Promise<EarlyExitGeneration[]> {
    const trialRequests = await Promise.all(
      requests.map(async (r) => ({
        messages: r.messages,
        pixels: r.image !== undefined ? await this.vlm.pixelsOf(r.image) : undefined,
        seed: r.seed,
        onToken: r.onToken,
      })),
    );
    const trajectories = await generateTrials(this.vlm, trialRequests, {
      maxTokens: options.maxTokens,
      temperature: options.temperature,
      topP: options.topP,
      seed: options.seed,
      stop: options.stop,
      logprobs: options.logprobs,
      topLogprobs: options.topLogprobs,
      gate: this.gate,
      tau: this.tau,
      batchSize: this.batchSize,
    });
    return trajectories.map((t) => ({
      text: t.response,
      tokens: t.tokens,
      finishReason: t.finishReason,
      ...(t.exitLevel !== undefined ? { exitLevel: t.exitLevel } : {}),
      ...(t.confidence !== undefined ? { confidence: t.confidence } : {}),
      ...(t.tokenLogprobs ? { tokenLogprobs: t.tokenLogprobs } : {}),
    }));
  }
}
