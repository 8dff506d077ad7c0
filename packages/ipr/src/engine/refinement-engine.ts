import {
  type GenerateOptions,
  type Generation,
  type Message,
  PolicyBatcher,
  type PreferencePair,
  parseResponse,
  type Sample,
  type VisionLanguagePolicy,
} from "@sr2se/core";
import { type AnswerCheck, createAnswerChecker } from "../answer/check.js";
import { checkFormat, type FormatCheck } from "../filters/format.js";
import type { HallucinationCount, HallucinationCounter } from "../hallucination/counter.js";
import { chatMlPrompt, type PromptFormatter } from "../prompt/chat-format.js";
import {
  DEFAULT_PROMPT_TEMPLATE,
  DEFAULT_REFINEMENT_TEMPLATE,
  DEFAULT_SELF_REWARD_TEMPLATE,
} from "../prompt/defaults.js";
import { PromptTemplate, renderChoices, type TemplateValues } from "../prompt/template.js";
import type { OutcomeKind, RefinementResult, SampleOutcome, SftRecord } from "./outcome.js";
import type { ResolvedOptions } from "./resolved-options.js";
import { type Refiner, type RunInput, type RunResult, runRefinement } from "./run.js";

/** Options of the refinement engine. Every one of them is reported in the run statistics. */
export interface RefinementOptions {
  /** The policy that answers and re-answers (and, for the self-reward check, answers from text alone). */
  policy: VisionLanguagePolicy;
  /** A name for the policy, written to each pair's `meta.policy`. */
  policyName?: string;
  /** K: refinement rounds after round 0 (default 3). */
  rounds?: number;
  /** n: responses sampled per round; the most confident wrong one is the hard negative (default 1). */
  samplesPerRound?: number;
  /** Temperature of each round (round 0 first); the last value holds for later rounds (default [0, 0.7]). */
  temperature?: number | readonly number[];
  maxTokens?: number;
  topP?: number;
  seed?: number;
  /** How answers are judged against the gold one (default: by `answer_type`). */
  checkAnswer?: AnswerCheck;
  /** Format a winner must have (default `strict`, Vision-SR1's format reward). */
  formatCheck?: FormatCheck;
  /** Require winners to pass the Vision-SR1 self-reward check (default true). */
  selfReward?: boolean;
  /** Temperature of the self-reward request (default 0). */
  selfRewardTemperature?: number;
  /** Keep round-0 successes that pass the winner filters as SFT data (default false). */
  keepSft?: boolean;
  /** Templates of the original prompt, the refinement turn and the self-reward request. */
  templates?: { prompt?: string; refinement?: string; selfReward?: string };
  /** Renders the original prompt's messages into a pair's `prompt` string (default ChatML). */
  formatPrompt?: PromptFormatter;
  /**
   * Counts a response's object mentions and hallucinated ones for the statistics (samples with
   * `objects` only); without it the statistics have no hallucination figures. See `HallucinationCounter`.
   */
  countHallucinations?: HallucinationCounter;
  /** Samples refined at once (default 64). */
  concurrency?: number;
  /** Largest batch of requests in one `policy.generate` call (default 16). */
  batchSize?: number;
  /** Most `policy.generate` calls running at once (default 4). */
  maxInFlight?: number;
}

interface Candidate {
  text: string;
  answer: string | null;
  correct: boolean;
  formatOk: boolean;
  confidence: number;
  index: number;
}

/**
 * Iterative perception refinement: asks a policy, and when its answer is wrong tells it that its
 * description was inaccurate and asks again, up to K rounds. A corrected response that passes the
 * format and self-reward checks becomes `chosen`, the original hallucinated one `rejected`, both
 * answers to the original prompt.
 */
export class RefinementEngine implements Refiner {
  readonly options: ResolvedOptions;
  readonly batcher: PolicyBatcher;
  private readonly check: AnswerCheck;
  private readonly promptTemplate: PromptTemplate;
  private readonly refinementTemplate: PromptTemplate;
  private readonly selfRewardTemplate: PromptTemplate;
  private readonly formatPrompt: PromptFormatter;
  private readonly countHallucinations: HallucinationCounter | undefined;
  private readonly temperatures: number[];

  constructor(options: RefinementOptions) {
    if (!options.policy || typeof options.policy.generate !== "function") {
      throw new Error("RefinementEngine: options.policy must have a generate(requests, options) method");
    }
    const rounds = options.rounds ?? 3;
    const n = options.samplesPerRound ?? 1;
    positiveInt("rounds", rounds, 0);
    positiveInt("samplesPerRound", n, 1);
    const t = options.temperature ?? [0, 0.7];
    this.temperatures = typeof t === "number" ? [t] : [...t];
    if (this.temperatures.length === 0)
      throw new Error("RefinementEngine: temperature must list at least one value");
    for (const v of this.temperatures) {
      if (!Number.isFinite(v) || v < 0)
        throw new Error(`RefinementEngine: temperature ${v} must be a number ≥ 0`);
    }
    const concurrency = options.concurrency ?? 64;
    const batchSize = options.batchSize ?? 16;
    const maxInFlight = options.maxInFlight ?? 4;
    positiveInt("concurrency", concurrency, 1);
    positiveInt("batchSize", batchSize, 1);
    positiveInt("maxInFlight", maxInFlight, 1);
    const format = options.formatCheck ?? "strict";
    if (!["strict", "description", "off"].includes(format)) {
      throw new Error(`RefinementEngine: formatCheck must be strict, description or off, got "${format}"`);
    }
    this.options = {
      rounds,
      samples_per_round: n,
      temperature: Array.from({ length: rounds + 1 }, (_, r) => this.temperatureOf(r)),
      hard_negative: "max_logprob",
      format_check: format,
      self_reward: options.selfReward ?? true,
      self_reward_temperature: options.selfRewardTemperature ?? 0,
      keep_sft: options.keepSft ?? false,
      max_tokens: options.maxTokens ?? null,
      top_p: options.topP ?? null,
      seed: options.seed ?? null,
      policy: options.policyName ?? null,
      concurrency,
      batch_size: batchSize,
      max_in_flight: maxInFlight,
    };
    this.batcher = new PolicyBatcher(options.policy, { maxBatch: batchSize, maxInFlight });
    this.check = options.checkAnswer ?? createAnswerChecker();
    const templates = options.templates ?? {};
    this.promptTemplate = new PromptTemplate("prompt", templates.prompt ?? DEFAULT_PROMPT_TEMPLATE, [
      "question",
      "choices",
    ]);
    this.refinementTemplate = new PromptTemplate(
      "refinement",
      templates.refinement ?? DEFAULT_REFINEMENT_TEMPLATE,
      ["question", "choices"],
    );
    this.selfRewardTemplate = new PromptTemplate(
      "self-reward",
      templates.selfReward ?? DEFAULT_SELF_REWARD_TEMPLATE,
      ["description", "question", "choices"],
    );
    if (!this.selfRewardTemplate.text.includes("{description}")) {
      throw new Error(
        "self-reward template: must contain {description} (the check answers from the description alone)",
      );
    }
    this.formatPrompt = options.formatPrompt ?? chatMlPrompt;
    this.countHallucinations = options.countHallucinations;
  }

  /** Returns the messages of the original prompt x for a sample. */
  promptMessages(sample: Sample): Message[] {
    return [{ role: "user", content: this.promptTemplate.render(templateValues(sample)) }];
  }

  /** Returns the refinement turn for a sample: built from the question and options only, never the answer. */
  refinementTurn(sample: Sample): Message {
    return { role: "user", content: this.refinementTemplate.render(templateValues(sample)) };
  }

  /** Returns the text-only self-reward request for a description. */
  selfRewardMessages(sample: Sample, description: string): Message[] {
    return [
      { role: "user", content: this.selfRewardTemplate.render({ ...templateValues(sample), description }) },
    ];
  }

  /** Returns the temperature of round `r`. */
  temperatureOf(r: number): number {
    return this.temperatures[Math.min(r, this.temperatures.length - 1)];
  }

  /**
   * Refines one sample: round 0, then refinement rounds until a right answer or K rounds. `image` is
   * what the policy receives (a path or bytes); defaults to `sample.image`.
   */
  async refine(sample: Sample, image: string | Uint8Array = sample.image): Promise<RefinementResult> {
    const started = performance.now();
    const x = this.promptMessages(sample);
    const o: SampleOutcome = {
      id: sample.id,
      outcome: "never_corrected",
      round: null,
      rounds: 0,
      responses: 0,
      format_failures: 0,
      tokens: 0,
      self_reward_tokens: 0,
      self_reward_checked: 0,
      self_reward_passed: 0,
      ms: 0,
    };
    const conversation: Message[] = [...x];
    let rejected: Candidate | undefined;
    let hardNegative: Candidate | undefined;
    let result: RefinementResult = { outcome: o };
    const K = this.options.rounds;
    for (let r = 0; r <= K; r++) {
      if (r > 0)
        conversation.push(
          { role: "assistant", content: (hardNegative as Candidate).text },
          this.refinementTurn(sample),
        );
      const candidates = await this.sampleRound(sample, image, conversation, r, o);
      o.rounds = r + 1;
      const right = candidates.filter((c) => c.correct).sort(byConfidence);
      if (right.length > 0) {
        o.round = r;
        if (r === 0) {
          o.outcome = "round0_correct";
          if (this.options.keep_sft) {
            const kept = await this.pickWinner(sample, right, o);
            if (typeof kept !== "string") {
              o.sft_id = sample.id;
              result = { outcome: o, sft: this.sftRecord(sample, kept) };
            }
          }
        } else {
          const winner = await this.pickWinner(sample, right, o);
          if (typeof winner === "string") {
            o.outcome = winner;
            if (this.counts(sample)) {
              o.hallucination = {
                filtered: this.hallucination(right[0].text, sample),
                rejected: this.hallucination((rejected as Candidate).text, sample),
              };
            }
          } else {
            o.outcome = "corrected";
            result = { outcome: o, pair: this.pair(sample, x, winner, rejected as Candidate, r, o) };
          }
        }
        break;
      }
      hardNegative = candidates.reduce((best, c) => (c.confidence > best.confidence ? c : best));
      if (r === 0) rejected = hardNegative;
    }
    o.ms = Math.round((performance.now() - started) * 100) / 100;
    return result;
  }

  /** Runs the engine over a stream of samples, writing pairs, the outcomes ledger and the statistics; resumable. */
  run(input: RunInput): Promise<RunResult> {
    return runRefinement(this, input);
  }

  private async sampleRound(
    sample: Sample,
    image: string | Uint8Array,
    conversation: Message[],
    r: number,
    o: SampleOutcome,
  ): Promise<Candidate[]> {
    const options = this.generateOptions(this.temperatureOf(r), r);
    const messages = conversation.slice();
    const n = this.options.samples_per_round;
    const pending: Promise<Generation>[] = [];
    for (let i = 0; i < n; i++) pending.push(this.batcher.generate({ image, messages }, options));
    const generations = await Promise.all(pending);
    const format = this.options.format_check;
    return generations.map((g, index) => {
      o.responses++;
      o.tokens += g.tokens ?? 0;
      const answer = parseResponse(g.text).answer;
      const formatOk = checkFormat(g.text, format);
      if (!formatOk) o.format_failures++;
      const confidence =
        g.logprob === undefined || !Number.isFinite(g.logprob)
          ? Number.NEGATIVE_INFINITY
          : g.tokens
            ? g.logprob / g.tokens
            : g.logprob;
      return { text: g.text, answer, correct: this.check(answer, sample), formatOk, confidence, index };
    });
  }

  /** The first right candidate (most confident first) that passes the filters, or the filter that stopped them all. */
  private async pickWinner(
    sample: Sample,
    right: Candidate[],
    o: SampleOutcome,
  ): Promise<Candidate | OutcomeKind> {
    let failed: OutcomeKind = "filtered_format";
    for (const c of right) {
      if (!c.formatOk) continue;
      if (!this.options.self_reward) return c;
      const description = parseResponse(c.text).description;
      if (description === undefined || description === "") continue;
      o.self_reward_checked++;
      const g = await this.batcher.generate(
        { messages: this.selfRewardMessages(sample, description) },
        this.generateOptions(this.options.self_reward_temperature, -1),
      );
      o.self_reward_tokens += g.tokens ?? 0;
      if (this.check(parseResponse(g.text).answer, sample)) {
        o.self_reward_passed++;
        return c;
      }
      failed = "filtered_self_reward";
    }
    return failed;
  }

  private generateOptions(temperature: number, r: number): GenerateOptions {
    const o: GenerateOptions = { temperature };
    if (this.options.max_tokens !== null) o.maxTokens = this.options.max_tokens;
    if (this.options.top_p !== null) o.topP = this.options.top_p;
    if (this.options.seed !== null) o.seed = this.options.seed + (r + 1) * 7919;
    return o;
  }

  private pair(
    sample: Sample,
    x: Message[],
    chosen: Candidate,
    rejected: Candidate,
    r: number,
    o: SampleOutcome,
  ): PreferencePair {
    const meta: Record<string, unknown> = {
      source: "ipr",
      round: r,
      chosen_correct: true,
      rejected_correct: false,
      chosen_answer: chosen.answer,
      rejected_answer: rejected.answer,
      answer: sample.answer,
      temperature: this.temperatureOf(r),
    };
    if (this.options.policy !== null) meta.policy = this.options.policy;
    if (this.counts(sample)) {
      const h = {
        chosen: this.hallucination(chosen.text, sample),
        rejected: this.hallucination(rejected.text, sample),
      };
      o.hallucination = h;
      meta.hallucination = { chosen: rate(h.chosen), rejected: rate(h.rejected) };
    }
    o.pair_id = `p-${sample.id}`;
    return {
      id: o.pair_id,
      sample_id: sample.id,
      image: sample.image,
      prompt: this.formatPrompt(x),
      chosen: chosen.text,
      rejected: rejected.text,
      meta,
    };
  }

  private sftRecord(sample: Sample, winner: Candidate): SftRecord {
    const meta: SftRecord["meta"] = { source: "ipr", round: 0 };
    if (this.options.policy !== null) meta.policy = this.options.policy;
    return { ...sample, response: winner.text, meta };
  }

  /** Whether the hallucination statistics count this sample's responses. */
  private counts(sample: Sample): boolean {
    return this.countHallucinations !== undefined && (sample.objects?.length ?? 0) > 0;
  }

  private hallucination(text: string, sample: Sample): HallucinationCount {
    return (this.countHallucinations as HallucinationCounter)(text, sample.objects ?? []);
  }
}

function templateValues(sample: Sample): TemplateValues {
  return { question: sample.question, choices: renderChoices(sample.choices) };
}

function byConfidence(a: Candidate, b: Candidate): number {
  return b.confidence - a.confidence || a.index - b.index;
}

function rate(h: HallucinationCount): number | null {
  return h.mentioned === 0 ? null : h.hallucinated / h.mentioned;
}

function positiveInt(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min)
    throw new Error(`RefinementEngine: ${name} must be an integer ≥ ${min}, got ${value}`);
}
