import {
  type GenerateOptions,
  type Generation,
  type Message,
  PolicyBatcher,
  type PreferencePair,
  parseResponse,
  type Sample,
  type SceneObject,
  type VisionLanguagePolicy,
  verifyPrompt,
} from "@sr2se/core";
import { type AnswerCheck, visionSr1Accuracy } from "../answer/check.js";
import { checkFormat, type FormatCheck } from "../filters/format.js";
import type { HallucinationCount, HallucinationCounter } from "../hallucination/counter.js";
import { chatMlPrompt, type PromptFormatter } from "../prompt/chat-format.js";
import { DEFAULT_PROMPT_TEMPLATE, DEFAULT_REFINEMENT_TEMPLATE } from "../prompt/defaults.js";
import { PromptTemplate, renderChoices, type TemplateValues } from "../prompt/template.js";
import type { OutcomeKind, RefinementResult, SampleOutcome, SelfRewardCheck, SftRecord } from "./outcome.js";
import { yesNoAnswer } from "./pairs-pass.js";
import type { BalanceKey, NegativeSource, ResolvedOptions } from "./resolved-options.js";
import { type Refiner, type RunInput, type RunResult, runRefinement } from "./run.js";
import { requestSeed } from "./seeds.js";

/** Makes the corrupted copy of an image that corrupted-image negatives (STIC) are answered from. */
export type ImageCorrupter = (
  image: string | Uint8Array,
  sample: Sample,
  seed: number,
) => Promise<{ image: Uint8Array; corruption: string }>;

/** Options of the refinement engine. Every one of them is reported in the run statistics. */
export interface RefinementOptions {
  /** The policy that answers and re-answers (and, for the self-reward check, answers from text alone). */
  policy: VisionLanguagePolicy;
  /** A name for the policy, written to each pair's `meta.policy`. */
  policyName?: string;
  /** K: refinement rounds after round 0 (default 3). */
  rounds?: number;
  /**
   * n: responses sampled per round (default 1). With n > 1 a round-0 question that some samples get
   * right and others wrong gives a pair at once: a verified right sample beats the most confident wrong one.
   */
  samplesPerRound?: number;
  /** Temperature of each round (round 0 first); the last value holds for later rounds (default [0, 0.7]). */
  temperature?: number | readonly number[];
  maxTokens?: number;
  topP?: number;
  /**
   * Run seed (default 0). Each request's sampling seed derives from it, the sample id, the round and
   * the attempt (`requestSeed`), so results do not depend on batching, sharding, concurrency or order.
   */
  seed?: number;
  /** Whether a response answers right (default: Vision-SR1's accuracy reward of `@sr2se/hsr-ee`). */
  checkAnswer?: AnswerCheck;
  /** False: a winner needs only the right answer; no format, perception or self-reward check (default true). */
  verify?: boolean;
  /** Format a winner must have (default `strict`, Vision-SR1's format reward). */
  formatCheck?: FormatCheck;
  /** Require winners to pass the Vision-SR1 self-reward check (default true). */
  selfReward?: boolean;
  /** Temperature of the self-reward request (default 0). */
  selfRewardTemperature?: number;
  /**
   * Require a winner's description to mention no object that the scene lacks (samples with `objects`;
   * needs `countHallucinations`; default false).
   */
  perception?: boolean;
  /**
   * Also run the self-reward check on each sample's gold description and on its first round-0
   * description, so the statistics measure how often the check agrees with the ground truth (default false).
   */
  auditSelfReward?: boolean;
  /**
   * Where losers come from (default `refined`: the policy's own hallucinated response). `random`: once
   * the run ends, each pair's loser is replaced by another pair's (a seeded derangement). `corrupted`:
   * the loser is the policy's answer to a corrupted copy of the image (STIC), made by `corruptImage`.
   */
  negatives?: NegativeSource;
  /** Makes the corrupted images of `negatives: "corrupted"`. */
  corruptImage?: ImageCorrupter;
  /** Once the run ends, keep a subset of the pairs balanced over these keys (default none). */
  balance?: readonly BalanceKey[];
  /** Keep round-0 successes that pass the winner filters as SFT data (default false). */
  keepSft?: boolean;
  /**
   * Templates of the original prompt, the refinement turn and the self-reward request (default of the
   * last: Vision-SR1's verify prompt, `verifyPrompt` of `@sr2se/core`).
   */
  templates?: { prompt?: string; refinement?: string; selfReward?: string };
  /** Renders the original prompt's messages into a pair's `prompt` string (default ChatML). */
  formatPrompt?: PromptFormatter;
  /**
   * Counts a response's object mentions and hallucinated ones for the statistics, the perception
   * check and the self-reward audit (samples with `objects` only). See `HallucinationCounter`.
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
  round: number;
}

const NEGATIVES: readonly NegativeSource[] = ["refined", "random", "corrupted"];
const BALANCE_KEYS: readonly BalanceKey[] = ["families", "yesno"];

/**
 * Iterative perception refinement: asks a policy, and when its answer is wrong tells it that its
 * description was inaccurate and asks again, up to K rounds. A right response that passes the winner
 * checks (format, perception, self-reward) becomes `chosen`, the hallucinated one `rejected`, both
 * answers to the original prompt.
 */
export class RefinementEngine implements Refiner {
  readonly options: ResolvedOptions;
  readonly batcher: PolicyBatcher;
  private readonly check: AnswerCheck;
  private readonly promptTemplate: PromptTemplate;
  private readonly refinementTemplate: PromptTemplate;
  private readonly selfRewardTemplate: PromptTemplate | null;
  private readonly formatPrompt: PromptFormatter;
  private readonly countHallucinations: HallucinationCounter | undefined;
  private readonly corruptImage: ImageCorrupter | undefined;
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
    const seed = options.seed ?? 0;
    positiveInt("seed", seed, 0);
    const concurrency = options.concurrency ?? 64;
    const batchSize = options.batchSize ?? 16;
    const maxInFlight = options.maxInFlight ?? 4;
    positiveInt("concurrency", concurrency, 1);
    positiveInt("batchSize", batchSize, 1);
    positiveInt("maxInFlight", maxInFlight, 1);
    const verify = options.verify ?? true;
    const format = verify ? (options.formatCheck ?? "strict") : "off";
    if (!["strict", "description", "off"].includes(format)) {
      throw new Error(`RefinementEngine: formatCheck must be strict, description or off, got "${format}"`);
    }
    const negatives = options.negatives ?? "refined";
    if (!NEGATIVES.includes(negatives))
      throw new Error(`RefinementEngine: negatives must be ${NEGATIVES.join(", ")}, got "${negatives}"`);
    if (negatives === "corrupted" && typeof options.corruptImage !== "function")
      throw new Error('RefinementEngine: negatives "corrupted" needs options.corruptImage');
    const balance = [...(options.balance ?? [])];
    for (const b of balance) {
      if (!BALANCE_KEYS.includes(b))
        throw new Error(`RefinementEngine: balance keys are ${BALANCE_KEYS.join(", ")}, got "${b}"`);
    }
    const perception = verify && (options.perception ?? false);
    if (perception && !options.countHallucinations)
      throw new Error("RefinementEngine: perception needs options.countHallucinations (the CHAIR extractor)");
    this.options = {
      rounds,
      samples_per_round: n,
      temperature: Array.from({ length: rounds + 1 }, (_, r) => this.temperatureOf(r)),
      hard_negative: "max_logprob",
      negatives,
      verify,
      format_check: format,
      self_reward: verify && (options.selfReward ?? true),
      self_reward_temperature: options.selfRewardTemperature ?? 0,
      perception,
      audit_self_reward: options.auditSelfReward ?? false,
      balance: BALANCE_KEYS.filter((k) => balance.includes(k)),
      keep_sft: options.keepSft ?? false,
      max_tokens: options.maxTokens ?? null,
      top_p: options.topP ?? null,
      seed,
      policy: options.policyName ?? null,
      concurrency,
      batch_size: batchSize,
      max_in_flight: maxInFlight,
    };
    this.batcher = new PolicyBatcher(options.policy, { maxBatch: batchSize, maxInFlight });
    this.check = options.checkAnswer ?? visionSr1Accuracy;
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
    this.selfRewardTemplate =
      templates.selfReward === undefined
        ? null
        : new PromptTemplate("self-reward", templates.selfReward, ["description", "question", "choices"]);
    if (this.selfRewardTemplate && !this.selfRewardTemplate.text.includes("{description}")) {
      throw new Error(
        "self-reward template: must contain {description} (the check answers from the description alone)",
      );
    }
    this.formatPrompt = options.formatPrompt ?? chatMlPrompt;
    this.countHallucinations = options.countHallucinations;
    this.corruptImage = options.corruptImage;
  }

  /** Returns the messages of the original prompt x for a sample. */
  promptMessages(sample: Sample): Message[] {
    return [{ role: "user", content: this.promptTemplate.render(templateValues(sample)) }];
  }

  /** Returns the refinement turn for a sample: built from the question and options only, never the answer. */
  refinementTurn(sample: Sample): Message {
    return { role: "user", content: this.refinementTemplate.render(templateValues(sample)) };
  }

  /** Returns the text-only self-reward request for a description (Vision-SR1's verify prompt unless a template is given). */
  selfRewardMessages(sample: Sample, description: string): Message[] {
    const content = this.selfRewardTemplate
      ? this.selfRewardTemplate.render({ ...templateValues(sample), description })
      : verifyPrompt(description, sample.question);
    return [{ role: "user", content }];
  }

  /** Returns the temperature of round `r`. */
  temperatureOf(r: number): number {
    return this.temperatures[Math.min(r, this.temperatures.length - 1)];
  }

  /**
   * Refines one sample: round 0, then refinement rounds until a verified right answer or K rounds.
   * `image` is what the policy receives (a path or bytes); defaults to `sample.image`.
   */
  async refine(sample: Sample, image: string | Uint8Array = sample.image): Promise<RefinementResult> {
    const started = performance.now();
    const x = this.promptMessages(sample);
    const o: SampleOutcome = {
      id: sample.id,
      outcome: "never_corrected",
      family: sample.family ?? null,
      yes_no: yesNoAnswer(sample.answer_type, sample.answer),
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
    let filteredAtZero: OutcomeKind | undefined;
    let result: RefinementResult = { outcome: o };
    const K = this.options.rounds;
    for (let r = 0; r <= K; r++) {
      const candidates = await this.sampleRound(sample, image, conversation, r, o);
      o.rounds = r + 1;
      if (r === 0 && this.options.audit_self_reward) await this.audit(sample, candidates[0], o);
      const right = candidates.filter((c) => c.correct).sort(byConfidence);
      const wrong = candidates.filter((c) => !c.correct);
      const hardNegative =
        wrong.length > 0 ? wrong.reduce((best, c) => (c.confidence > best.confidence ? c : best)) : undefined;
      if (r === 0) rejected = hardNegative;
      if (right.length > 0) {
        const everyRight = r === 0 && wrong.length === 0;
        if (everyRight && this.options.negatives !== "corrupted") {
          o.round = 0;
          o.outcome = "round0_correct";
          if (this.options.keep_sft) {
            const kept = await this.pickWinner(sample, right, o);
            if (typeof kept !== "string") {
              o.sft_id = sample.id;
              result = { outcome: o, sft: this.sftRecord(sample, kept) };
            }
          }
          break;
        }
        const winner = await this.pickWinner(sample, right, o);
        if (typeof winner !== "string") {
          o.round = r;
          o.outcome = r === 0 ? "round0_pair" : "corrected";
          const loser =
            this.options.negatives === "corrupted"
              ? await this.corruptedResponse(sample, image, x, o)
              : (rejected as Candidate);
          result = { outcome: o, pair: await this.pair(sample, x, winner, loser, o) };
          break;
        }
        // a round-0 mixture whose right samples all failed the checks goes on from its wrong one
        filteredAtZero = r === 0 ? winner : filteredAtZero;
        if (r > 0 || hardNegative === undefined) {
          o.round = r;
          o.outcome = winner;
          if (this.counts(sample)) {
            o.hallucination = { filtered: this.hallucination(right[0].text, sample) };
            if (rejected) o.hallucination.rejected = this.hallucination(rejected.text, sample);
          }
          break;
        }
      }
      if (r === K) break;
      conversation.push(
        { role: "assistant", content: (hardNegative as Candidate).text },
        this.refinementTurn(sample),
      );
    }
    if (o.outcome === "never_corrected" && filteredAtZero !== undefined) {
      // right at round 0 but never verified: the filter, not the policy, is what stopped it
      o.outcome = filteredAtZero;
      o.round = 0;
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
    const options = this.generateOptions(this.temperatureOf(r));
    const messages = conversation.slice();
    const n = this.options.samples_per_round;
    const pending: Promise<Generation>[] = [];
    for (let i = 0; i < n; i++) {
      const seed = requestSeed(this.options.seed, sample.id, r, i);
      pending.push(this.batcher.generate({ image, messages, seed }, options));
    }
    const generations = await Promise.all(pending);
    return generations.map((g, index) => this.candidate(g, sample, r, index, o));
  }

  private candidate(
    g: Generation,
    sample: Sample,
    round: number,
    index: number,
    o: SampleOutcome,
  ): Candidate {
    o.responses++;
    o.tokens += g.tokens ?? 0;
    const answer = parseResponse(g.text).answer;
    const formatOk = checkFormat(g.text, this.options.format_check);
    if (!formatOk) o.format_failures++;
    const confidence =
      g.logprob === undefined || !Number.isFinite(g.logprob)
        ? Number.NEGATIVE_INFINITY
        : g.tokens
          ? g.logprob / g.tokens
          : g.logprob;
    return { text: g.text, answer, correct: this.check(g.text, sample), formatOk, confidence, index, round };
  }

  /** The loser of corrupted-image negatives: the policy's answer to the original prompt about a corrupted copy of the image. */
  private async corruptedResponse(
    sample: Sample,
    image: string | Uint8Array,
    x: Message[],
    o: SampleOutcome,
  ): Promise<Candidate & { corruption: string }> {
    const corrupt = this.corruptImage as ImageCorrupter;
    const made = await corrupt(image, sample, requestSeed(this.options.seed, sample.id, "corruption"));
    const seed = requestSeed(this.options.seed, sample.id, "corrupted");
    const g = await this.batcher.generate(
      { image: made.image, messages: x.slice(), seed },
      this.generateOptions(this.temperatureOf(0)),
    );
    return { ...this.candidate(g, sample, 0, 0, o), corruption: made.corruption };
  }

  /**
   * The first right candidate (most confident first) that passes the checks: format, then perception
   * (no hallucinated object in its description), then the self-reward; or the check that stopped the last one.
   */
  private async pickWinner(
    sample: Sample,
    right: Candidate[],
    o: SampleOutcome,
  ): Promise<Candidate | OutcomeKind> {
    let failed: OutcomeKind = "filtered_format";
    for (const c of right) {
      if (!c.formatOk) continue;
      if (this.options.perception && this.counts(sample)) {
        o.perception_checked = (o.perception_checked ?? 0) + 1;
        if (this.hallucination(c.text, sample).hallucinated > 0) {
          o.perception_failed = (o.perception_failed ?? 0) + 1;
          failed = "filtered_perception";
          continue;
        }
      }
      if (!this.options.self_reward) return c;
      const description = parseResponse(c.text).description;
      if (description === undefined || description === "") continue;
      o.self_reward_checked++;
      const pass = await this.selfRewardPasses(sample, description, `winner-${c.round}`, c.index, o);
      this.recordCheck(o, "winner", pass, sample, c.text);
      if (pass) {
        o.self_reward_passed++;
        return c;
      }
      failed = "filtered_self_reward";
    }
    return failed;
  }

  /** Whether the policy, given only `description` and the question, answers right (Vision-SR1's self-reward). */
  private async selfRewardPasses(
    sample: Sample,
    description: string,
    step: string,
    attempt: number,
    o: SampleOutcome,
  ): Promise<boolean> {
    const g = await this.batcher.generate(
      {
        messages: this.selfRewardMessages(sample, description),
        seed: requestSeed(this.options.seed, sample.id, step, attempt),
      },
      this.generateOptions(this.options.self_reward_temperature),
    );
    o.self_reward_tokens += g.tokens ?? 0;
    return this.check(g.text, sample);
  }

  /** The self-reward check on the gold description and on the first round-0 description, for the agreement statistics. */
  private async audit(sample: Sample, first: Candidate, o: SampleOutcome): Promise<void> {
    const checks: Promise<void>[] = [];
    if (sample.description) {
      const gold = sample.description;
      checks.push(
        this.selfRewardPasses(sample, gold, "audit-gold", 0, o).then((pass) =>
          this.recordCheck(o, "gold", pass, sample, `<description>${gold}</description>`),
        ),
      );
    }
    const own = parseResponse(first.text).description;
    if (own) {
      checks.push(
        this.selfRewardPasses(sample, own, "audit-response", 0, o).then((pass) =>
          this.recordCheck(o, "response", pass, sample, first.text),
        ),
      );
    }
    await Promise.all(checks);
  }

  private recordCheck(
    o: SampleOutcome,
    kind: SelfRewardCheck["kind"],
    pass: boolean,
    sample: Sample,
    text: string,
  ): void {
    const faithful = this.counts(sample) ? this.faithful(text, sample) : null;
    o.checks ??= [];
    o.checks.push({ kind, pass, faithful });
  }

  private generateOptions(temperature: number): GenerateOptions {
    const o: GenerateOptions = { temperature };
    if (this.options.max_tokens !== null) o.maxTokens = this.options.max_tokens;
    if (this.options.top_p !== null) o.topP = this.options.top_p;
    return o;
  }

  private async pair(
    sample: Sample,
    x: Message[],
    chosen: Candidate,
    rejected: Candidate & { corruption?: string },
    o: SampleOutcome,
  ): Promise<PreferencePair> {
    const meta: Record<string, unknown> = {
      source: "ipr",
      round: chosen.round,
      chosen_correct: true,
      rejected_correct: rejected.correct,
      chosen_answer: chosen.answer,
      rejected_answer: rejected.answer,
      answer: sample.answer,
      temperature: this.temperatureOf(chosen.round),
      negative: rejected.corruption !== undefined ? "corrupted" : chosen.round === 0 ? "sampled" : "refined",
    };
    if (rejected.corruption !== undefined) meta.corruption = rejected.corruption;
    if (sample.family !== undefined) meta.family = sample.family;
    if (sample.answer_type !== undefined) meta.answer_type = sample.answer_type;
    if (this.options.policy !== null) meta.policy = this.options.policy;
    if (this.counts(sample)) {
      const h = {
        chosen: this.hallucination(chosen.text, sample),
        rejected: this.hallucination(rejected.text, sample),
      };
      o.hallucination = { chosen: countsOnly(h.chosen), rejected: countsOnly(h.rejected) };
      meta.hallucination = { chosen: rate(h.chosen), rejected: rate(h.rejected) };
      meta.rejected_hallucinated = h.rejected.words ?? [];
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

  /**
   * Whether a response's description names the scene's objects and nothing else: no hallucinated
   * mention, and a mention of each kind (colour and shape) of object. Coverage is read off the same
   * counter: without the objects of one kind, a mention of that kind turns into a hallucinated one.
   */
  private faithful(text: string, sample: Sample): boolean {
    const count = this.countHallucinations as HallucinationCounter;
    const objects = sample.objects ?? [];
    const base = count(text, objects).hallucinated;
    if (base > 0) return false;
    const kindOf = (x: SceneObject) => `${x.color} ${x.shape}`;
    for (const kind of new Set(objects.map(kindOf))) {
      const others = objects.filter((x) => kindOf(x) !== kind);
      if (count(text, others).hallucinated === base) return false;
    }
    return true;
  }

  /** Whether this sample's responses can be checked against its objects. */
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

function countsOnly(h: HallucinationCount): HallucinationCount {
  return { mentioned: h.mentioned, hallucinated: h.hallucinated };
}

function rate(h: HallucinationCount): number | null {
  return h.mentioned === 0 ? null : h.hallucinated / h.mentioned;
}

function positiveInt(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min)
    throw new Error(`RefinementEngine: ${name} must be an integer ≥ ${min}, got ${value}`);
}
