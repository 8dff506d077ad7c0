import type { HallucinationCount } from "../hallucination/counter.js";
import type { SampleOutcome, SelfRewardCheck } from "./outcome.js";
import type { ResolvedOptions } from "./resolved-options.js";
import type { Shard } from "./shard.js";

/** Correction in one round: samples still wrong when it began, and those it made right. */
export interface RoundStats {
  round: number;
  attempted: number;
  correct: number;
  /** correct / attempted (round 0: the policy's plain accuracy). */
  rate: number | null;
}

/** Hallucination rate (CHAIR_i) of a set of responses: share of mentioned objects that are not in the image. */
export interface HallucinationStats {
  responses: number;
  mentioned: number;
  hallucinated: number;
  rate: number | null;
  /** Share of responses with at least one hallucinated object (CHAIR_s). */
  response_rate: number | null;
}

/**
 * How often the self-reward check agrees with the ground truth, over checks of one kind. A check
 * "says yes" when the text-only answer from the description is right; the truth is whether the
 * description names exactly the scene's objects (`faithful`, by the CHAIR extractor). precision =
 * P(faithful | pass), recall = P(pass | faithful); checks without known objects count in `checks`
 * and `pass_rate` only.
 */
export interface CheckAgreement {
  checks: number;
  passed: number;
  pass_rate: number | null;
  labelled: number;
  /** pass and faithful, pass and not, fail and faithful, fail and not. */
  tp: number;
  fp: number;
  fn: number;
  tn: number;
  precision: number | null;
  recall: number | null;
  /** (tp + tn) / labelled. */
  accuracy: number | null;
}

/** What the end-of-run pass did to the pairs (balance, random negatives). */
export interface PairsPass {
  /** Pairs the engine found, and pairs written to the output after the pass. */
  before: number;
  after: number;
  by_family_before: Record<string, number>;
  by_family_after: Record<string, number>;
  yes_no_before: { yes: number; no: number };
  yes_no_after: { yes: number; no: number };
  /** Pairs whose loser was swapped for another pair's (random negatives). */
  random_negatives: number;
}

/** The statistics of a run, as written to `<out>.stats.json`. */
export interface RefinementStatistics {
  samples: number;
  resumed: number;
  errors: number;
  outcomes: Record<SampleOutcome["outcome"], number>;
  pairs: number;
  sft: number;
  /** Pairs found over samples refined: the yield. */
  pairs_per_sample: number | null;
  pairs_by_family: Record<string, number>;
  /** Pairs of yes/no questions by their gold (= chosen) answer. */
  pairs_by_yes_no: { yes: number; no: number };
  /** Set when the run ended with a pass over its pairs (`balance` or random negatives). */
  pairs_pass: PairsPass | null;
  /** Samples wrong at round 0 that no round made right, over samples wrong at round 0. */
  never_corrected_share: number | null;
  per_round: RoundStats[];
  format_failures: {
    responses: number;
    total_responses: number;
    rate: number | null;
    winners_filtered: number;
  };
  self_reward: {
    checked: number;
    passed: number;
    winners_filtered: number;
    /** The check against the ground truth: on winner candidates, on the gold descriptions and on round-0 descriptions (audit). */
    agreement: Record<SelfRewardCheck["kind"], CheckAgreement>;
  };
  perception: { checked: number; failed: number; winners_filtered: number };
  hallucination: {
    winners: HallucinationStats;
    losers: HallucinationStats;
    filtered: HallucinationStats;
  } | null;
  tokens: { generated: number; self_reward: number };
  policy: { calls: number; requests: number };
  time: { seconds: number; samples_per_second: number | null; sample_ms_mean: number | null };
  options: ResolvedOptions & { shard: string | null };
}

class HallucinationTally {
  responses = 0;
  mentioned = 0;
  hallucinated = 0;
  withAny = 0;

  add(h: HallucinationCount | undefined): void {
    if (!h) return;
    this.responses++;
    this.mentioned += h.mentioned;
    this.hallucinated += h.hallucinated;
    if (h.hallucinated > 0) this.withAny++;
  }

  toJSON(): HallucinationStats {
    return {
      responses: this.responses,
      mentioned: this.mentioned,
      hallucinated: this.hallucinated,
      rate: ratio(this.hallucinated, this.mentioned),
      response_rate: ratio(this.withAny, this.responses),
    };
  }
}

class AgreementTally {
  checks = 0;
  passed = 0;
  tp = 0;
  fp = 0;
  fn = 0;
  tn = 0;

  add(c: SelfRewardCheck): void {
    this.checks++;
    if (c.pass) this.passed++;
    if (c.faithful === null) return;
    if (c.pass && c.faithful) this.tp++;
    else if (c.pass) this.fp++;
    else if (c.faithful) this.fn++;
    else this.tn++;
  }

  toJSON(): CheckAgreement {
    const labelled = this.tp + this.fp + this.fn + this.tn;
    return {
      checks: this.checks,
      passed: this.passed,
      pass_rate: ratio(this.passed, this.checks),
      labelled,
      tp: this.tp,
      fp: this.fp,
      fn: this.fn,
      tn: this.tn,
      precision: ratio(this.tp, this.tp + this.fp),
      recall: ratio(this.tp, this.tp + this.fn),
      accuracy: ratio(this.tp + this.tn, labelled),
    };
  }
}

/** Accumulates sample outcomes (this run's and a resumed run's) into the run statistics. */
export class RefinementStatsTally {
  samples = 0;
  resumed = 0;
  errors = 0;
  pairs = 0;
  sft = 0;
  private readonly outcomes: Record<SampleOutcome["outcome"], number> = {
    round0_correct: 0,
    round0_pair: 0,
    corrected: 0,
    filtered_format: 0,
    filtered_perception: 0,
    filtered_self_reward: 0,
    never_corrected: 0,
  };
  private readonly byFamily: Record<string, number> = {};
  private readonly byYesNo = { yes: 0, no: 0 };
  private readonly agreement = {
    winner: new AgreementTally(),
    gold: new AgreementTally(),
    response: new AgreementTally(),
  };
  private perceptionChecked = 0;
  private perceptionFailed = 0;
  /** Set by the run once its end-of-run pass over the pairs is done. */
  pairsPass: PairsPass | null = null;
  private readonly attempted: number[];
  private readonly correct: number[];
  private formatFailures = 0;
  private responses = 0;
  private selfRewardChecked = 0;
  private selfRewardPassed = 0;
  private tokens = 0;
  private selfRewardTokens = 0;
  private sampleMs = 0;
  private readonly winners = new HallucinationTally();
  private readonly losers = new HallucinationTally();
  private readonly filtered = new HallucinationTally();

  constructor(private readonly rounds: number) {
    this.attempted = new Array(rounds + 1).fill(0);
    this.correct = new Array(rounds + 1).fill(0);
  }

  /** Adds one sample's outcome; `resumed` marks one read back from an earlier run's ledger. */
  add(o: SampleOutcome, resumed = false): void {
    this.samples++;
    if (resumed) this.resumed++;
    this.outcomes[o.outcome] = (this.outcomes[o.outcome] ?? 0) + 1;
    for (let r = 0; r < Math.min(o.rounds, this.attempted.length); r++) this.attempted[r]++;
    if (o.round !== null && o.round < this.correct.length) this.correct[o.round]++;
    if (o.pair_id !== undefined) {
      this.pairs++;
      const family = o.family ?? "none";
      this.byFamily[family] = (this.byFamily[family] ?? 0) + 1;
      if (o.yes_no === "yes" || o.yes_no === "no") this.byYesNo[o.yes_no]++;
    }
    for (const c of o.checks ?? []) this.agreement[c.kind].add(c);
    this.perceptionChecked += o.perception_checked ?? 0;
    this.perceptionFailed += o.perception_failed ?? 0;
    if (o.sft_id !== undefined) this.sft++;
    this.responses += o.responses;
    this.formatFailures += o.format_failures;
    this.selfRewardChecked += o.self_reward_checked;
    this.selfRewardPassed += o.self_reward_passed;
    this.tokens += o.tokens;
    this.selfRewardTokens += o.self_reward_tokens;
    this.sampleMs += o.ms;
    if (o.hallucination) {
      this.winners.add(o.hallucination.chosen);
      this.losers.add(o.hallucination.rejected);
      this.filtered.add(o.hallucination.filtered);
    }
  }

  /** Returns the statistics so far. */
  snapshot(
    options: ResolvedOptions,
    shard: Shard | undefined,
    seconds: number,
    policy: { calls: number; requests: number },
  ): RefinementStatistics {
    // samples that no round-0 response ended (right, a pair, or stopped by a filter)
    const wrongAtZero = this.samples - (this.correct[0] ?? 0);
    const hallucination =
      this.winners.responses + this.losers.responses + this.filtered.responses > 0
        ? { winners: this.winners.toJSON(), losers: this.losers.toJSON(), filtered: this.filtered.toJSON() }
        : null;
    const fresh = this.samples - this.resumed;
    return {
      samples: this.samples,
      resumed: this.resumed,
      errors: this.errors,
      outcomes: { ...this.outcomes },
      pairs: this.pairs,
      sft: this.sft,
      pairs_per_sample: ratio(this.pairs, this.samples),
      pairs_by_family: sortedKeys(this.byFamily),
      pairs_by_yes_no: { ...this.byYesNo },
      pairs_pass: this.pairsPass,
      never_corrected_share: ratio(this.outcomes.never_corrected, wrongAtZero),
      per_round: this.attempted.map((attempted, round) => ({
        round,
        attempted,
        correct: this.correct[round],
        rate: ratio(this.correct[round], attempted),
      })),
      format_failures: {
        responses: this.formatFailures,
        total_responses: this.responses,
        rate: ratio(this.formatFailures, this.responses),
        winners_filtered: this.outcomes.filtered_format,
      },
      self_reward: {
        checked: this.selfRewardChecked,
        passed: this.selfRewardPassed,
        winners_filtered: this.outcomes.filtered_self_reward,
        agreement: {
          winner: this.agreement.winner.toJSON(),
          gold: this.agreement.gold.toJSON(),
          response: this.agreement.response.toJSON(),
        },
      },
      perception: {
        checked: this.perceptionChecked,
        failed: this.perceptionFailed,
        winners_filtered: this.outcomes.filtered_perception,
      },
      hallucination,
      tokens: { generated: this.tokens, self_reward: this.selfRewardTokens },
      policy,
      time: {
        seconds: Math.round(seconds * 1000) / 1000,
        samples_per_second: seconds > 0 ? Math.round((fresh / seconds) * 10) / 10 : null,
        sample_ms_mean: this.samples > 0 ? Math.round((this.sampleMs / this.samples) * 100) / 100 : null,
      },
      options: { ...options, shard: shard ? `${shard.index}/${shard.count}` : null },
    };
  }
}

function ratio(a: number, b: number): number | null {
  return b === 0 ? null : Math.round((a / b) * 1e6) / 1e6;
}

/** The same counts with their keys in order, so the statistics file does not depend on the order samples ended in. */
export function sortedKeys(counts: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
