import type { GenerateOptions, GenerateRequest, Generation, VisionLanguagePolicy } from "@sr2se/core";

/** What a scripted policy is asked: the request, its options, and which assistant turn of the chat it is. */
export interface ScriptContext {
  request: GenerateRequest;
  options: GenerateOptions;
  /** Assistant turns already in the chat: 0 for round 0, 1 after one refinement turn, … */
  round: number;
  /** True for a text-only request (the self-reward check). */
  textOnly: boolean;
}

/**
 * A policy that answers from a function: for tests, examples and benchmarks of the engine. The
 * function may return a string or a full generation (with tokens and logprob).
 */
export class ScriptedPolicy implements VisionLanguagePolicy {
  /** Requests answered so far, in order. */
  readonly log: Array<{ request: GenerateRequest; options: GenerateOptions }> = [];
  calls = 0;

  constructor(
    private readonly script: (ctx: ScriptContext) => string | Generation | Promise<string | Generation>,
    private readonly options: { record?: boolean } = {},
  ) {}

  /** Returns the script's answer to each request. */
  async generate(requests: GenerateRequest[], options: GenerateOptions = {}): Promise<Generation[]> {
    this.calls++;
    const out: Generation[] = [];
    for (const request of requests) {
      if (this.options.record) this.log.push({ request, options });
      let round = 0;
      for (const m of request.messages) if (m.role === "assistant") round++;
      const g = await this.script({ request, options, round, textOnly: request.image === undefined });
      out.push(typeof g === "string" ? { text: g } : g);
    }
    return out;
  }
}
