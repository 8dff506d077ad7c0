// The method's levers, one a block: each test fails without the lever it names.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { type Generation, type PreferencePair, Rng, type Sample, verifyPrompt } from "@sr2se/core";
import { SHAPES_WORLD_VOCABULARY } from "@sr2se/data";
import { createHallucinationCounter } from "@sr2se/eval";
import { describe, expect, it } from "vitest";
import {
  RefinementEngine,
  type RefinementOptions,
  type RefinementStatistics,
  requestSeed,
  type SampleOutcome,
  type ScriptContext,
  ScriptedPolicy,
} from "../src/index.js";
import { readLines, respond, sample, sampleIdOf, tempDir } from "./helpers.js";

const countHallucinations = createHallucinationCounter({ vocabulary: SHAPES_WORLD_VOCABULARY });
const RED_CIRCLE = { shape: "circle", color: "red", size: "small", cell: [0, 0] as [number, number] };
const BLUE_SQUARE = { shape: "square", color: "blue", size: "large", cell: [1, 1] as [number, number] };

/**
 * A policy that samples like a batched decoder: a request with its own seed draws from that seed
 * alone; one without draws from a stream shared by every request in the order they arrive, which is
 * what batching, concurrency and the order of the file change.
 */
function sampler(answer: (ctx: ScriptContext, u: number) => string | Generation): ScriptedPolicy {
  const shared = new Rng("one stream for the whole run");
  return new ScriptedPolicy((ctx) => {
    const u = ctx.request.seed === undefined ? shared.next() : new Rng(`request ${ctx.request.seed}`).next();
    return answer(ctx, u);
  });
}

/** Right with probability ½ at temperature > 0, wrong answers hallucinate; text-only checks pass with probability ¾. */
function coinPolicy(): ScriptedPolicy {
  return sampler(({ request, textOnly, options }, u) => {
    const id = sampleIdOf(request.messages[0].content) as string;
    const gold = String(Number(id.slice(2)) % 5);
    if (textOnly) return `<think>From the text.</think> \\boxed{${u < 0.75 ? gold : "none"}}`;
    const right = (options.temperature ?? 0) === 0 ? id.length % 2 === 0 : u < 0.5;
    return right
      ? { text: respond(`A red circle. Seen as ${gold}.`, gold), logprob: -u, tokens: 1 }
      : { text: respond(`A blue star, drawn ${Math.floor(u * 1000)}.`, "9"), logprob: -u, tokens: 1 };
  });
}

const COIN_SAMPLES = Array.from({ length: 40 }, (_, i) => sample(`s-${i}`, String(i % 5)));

async function runToFiles(
  options: Omit<RefinementOptions, "policy">,
  samples: Sample[],
  policy: ScriptedPolicy,
): Promise<{ pairs: PreferencePair[]; outcomes: SampleOutcome[]; stats: RefinementStatistics }> {
  const out = path.join(await tempDir(), "pairs.jsonl");
  const { stats, files } = await new RefinementEngine({ policy, ...options }).run({ samples, out });
  const pairs = (await readLines<PreferencePair>(out)).sort((a, b) => a.id.localeCompare(b.id));
  const outcomes = (await readLines<SampleOutcome>(files.outcomes))
    .map(({ ms: _, ...o }) => o as SampleOutcome)
    .sort((a, b) => a.id.localeCompare(b.id));
  return { pairs, outcomes, stats };
}

describe("per-request seeds", () => {
  const options = { rounds: 2, samplesPerRound: 3, temperature: 1, seed: 7 };

  it("gives the same pairs and outcomes for batch size 1 and 8, any concurrency and a shuffled file", async () => {
    const one = await runToFiles({ ...options, batchSize: 1, concurrency: 1 }, COIN_SAMPLES, coinPolicy());
    const eight = await runToFiles({ ...options, batchSize: 8, concurrency: 16 }, COIN_SAMPLES, coinPolicy());
    const shuffled = new Rng(3).shuffle([...COIN_SAMPLES]);
    const mixed = await runToFiles({ ...options, batchSize: 8, concurrency: 5 }, shuffled, coinPolicy());
    expect(one.pairs.length).toBeGreaterThan(10);
    expect(eight.pairs).toEqual(one.pairs);
    expect(mixed.pairs).toEqual(one.pairs);
    expect(eight.outcomes).toEqual(one.outcomes);
    expect(mixed.outcomes).toEqual(one.outcomes);
  });

  it("gives each sample the same pairs in a shard as in the whole run", async () => {
    const whole = await runToFiles(options, COIN_SAMPLES, coinPolicy());
    const parts: PreferencePair[] = [];
    for (const index of [0, 1]) {
      const out = path.join(await tempDir(), "pairs.jsonl");
      const engine = new RefinementEngine({ policy: coinPolicy(), ...options });
      await engine.run({ samples: COIN_SAMPLES, out, shard: { index, count: 2 } });
      parts.push(...(await readLines<PreferencePair>(out)));
    }
    expect(parts.sort((a, b) => a.id.localeCompare(b.id))).toEqual(whole.pairs);
  });

  it("takes each request's seed from the run seed, the sample, the round and the attempt", async () => {
    const policy = new ScriptedPolicy(() => respond("A red circle.", "0"), { record: true });
    await new RefinementEngine({ policy, rounds: 1, samplesPerRound: 2, temperature: 1, seed: 5 }).refine(
      sample("s-1", "4"),
    );
    const image = policy.log.filter((l) => l.request.image !== undefined);
    expect(image.map((l) => l.request.seed)).toEqual([
      requestSeed(5, "s-1", 0, 0),
      requestSeed(5, "s-1", 0, 1),
      requestSeed(5, "s-1", 1, 0),
      requestSeed(5, "s-1", 1, 1),
    ]);
    const all = [5, 6].flatMap((run) =>
      ["s-1", "s-2"].flatMap((id) =>
        [0, 1].flatMap((step) => [0, 1].map((a) => requestSeed(run, id, step, a))),
      ),
    );
    expect(new Set(all).size).toBe(all.length);
  });

  it("a different run seed samples different pairs", async () => {
    const a = await runToFiles({ ...options, seed: 1 }, COIN_SAMPLES, coinPolicy());
    const b = await runToFiles({ ...options, seed: 2 }, COIN_SAMPLES, coinPolicy());
    expect(b.pairs).not.toEqual(a.pairs);
  });
});

describe("sampled attempts", () => {
  // the k-th response to a sample: right, wrong (confident), right, wrong (less confident), …
  function mixedPolicy(): ScriptedPolicy {
    const asked = new Map<string, number>();
    const answers: Generation[] = [
      { text: respond("One red circle.", "1"), logprob: -2, tokens: 1 },
      { text: respond("A red circle and a blue star.", "2"), logprob: -1, tokens: 1 },
      { text: respond("A single red circle.", "1"), logprob: -3, tokens: 1 },
      { text: respond("Three circles.", "3"), logprob: -5, tokens: 1 },
    ];
    return new ScriptedPolicy(({ request, textOnly }) => {
      if (textOnly) return "<think>One circle.</think> \\boxed{1}";
      const id = sampleIdOf(request.messages[0].content) as string;
      const k = asked.get(id) ?? 0;
      asked.set(id, k + 1);
      return answers[k % answers.length];
    });
  }

  it("a question the first response gets right still yields a pair: a verified right sample over the most confident wrong one", async () => {
    const engine = new RefinementEngine({ policy: mixedPolicy(), samplesPerRound: 4, temperature: 1 });
    const { outcome, pair } = await engine.refine(sample("s-1", "1"));
    expect(outcome).toMatchObject({ outcome: "round0_pair", round: 0, rounds: 1, responses: 4 });
    expect(pair?.chosen).toBe(respond("One red circle.", "1"));
    expect(pair?.rejected).toBe(respond("A red circle and a blue star.", "2"));
    expect(pair?.meta).toMatchObject({ round: 0, negative: "sampled", rejected_correct: false });
  });

  it("with one response a round the same question gives no pair", async () => {
    const engine = new RefinementEngine({ policy: mixedPolicy(), samplesPerRound: 1, temperature: 1 });
    const { outcome, pair } = await engine.refine(sample("s-1", "1"));
    expect(outcome.outcome).toBe("round0_correct");
    expect(pair).toBeUndefined();
  });
});

describe("verified perception", () => {
  // round 0 wrong; round 1 right twice: first naming a green star the scene lacks (the more confident), then faithfully
  const policy = () => {
    let k = 0;
    return new ScriptedPolicy(({ round, textOnly }) => {
      if (textOnly) return "<think>One circle.</think> \\boxed{1}";
      if (round === 0)
        return { text: respond("A red circle and a blue square.", "2"), logprob: -1, tokens: 1 };
      return k++ % 2 === 0
        ? { text: respond("A red circle and a green star.", "1"), logprob: -1, tokens: 1 }
        : { text: respond("A red circle.", "1"), logprob: -2, tokens: 1 };
    });
  };
  const scene = sample("s-1", "1", { objects: [RED_CIRCLE] });
  const options = { samplesPerRound: 2, temperature: 1, countHallucinations };

  it("refuses a winner whose description mentions an object the scene lacks, and records the loser's", async () => {
    const engine = new RefinementEngine({ policy: policy(), perception: true, ...options });
    const { outcome, pair } = await engine.refine(scene);
    expect(outcome).toMatchObject({
      outcome: "corrected",
      round: 1,
      perception_checked: 2,
      perception_failed: 1,
    });
    expect(pair?.chosen).toBe(respond("A red circle.", "1"));
    expect(pair?.meta?.rejected_hallucinated).toEqual(["blue square"]);
  });

  it("without it the more confident, hallucinating answer wins", async () => {
    const engine = new RefinementEngine({ policy: policy(), ...options });
    const { pair } = await engine.refine(scene);
    expect(pair?.chosen).toBe(respond("A red circle and a green star.", "1"));
  });

  it("a sample whose right answers all hallucinate ends filtered_perception, counted in the statistics", async () => {
    const engine = new RefinementEngine({ policy: policy(), perception: true, countHallucinations });
    const { stats } = await engine.run({ samples: [scene], out: path.join(await tempDir(), "p.jsonl") });
    expect(stats.outcomes.filtered_perception).toBe(1);
    expect(stats.perception).toEqual({ checked: 1, failed: 1, winners_filtered: 1 });
    expect(stats.pairs).toBe(0);
  });

  it("needs the CHAIR extractor", () => {
    expect(() => new RefinementEngine({ policy: policy(), perception: true })).toThrow(/countHallucinations/);
  });
});

describe("the self-reward check", () => {
  it("asks Vision-SR1's verify prompt, text only", async () => {
    const policy = new ScriptedPolicy(
      ({ textOnly }) => (textOnly ? "\\boxed{1}" : respond("One red circle.", "1")),
      { record: true },
    );
    const s = sample("s-1", "1");
    await new RefinementEngine({ policy, keepSft: true }).refine(s);
    const textOnly = policy.log.filter((l) => l.request.image === undefined);
    expect(textOnly.map((l) => l.request.messages)).toEqual([
      [{ role: "user", content: verifyPrompt("One red circle.", s.question) }],
    ]);
  });

  it("the audit measures its agreement with the ground truth on gold and round-0 descriptions", async () => {
    // the text-only answer is right exactly when the description names the red circle
    const policy = new ScriptedPolicy(({ request, textOnly }) => {
      const id = sampleIdOf(request.messages[0].content) as string;
      if (textOnly) return `\\boxed{${/red circle/i.test(request.messages[0].content) ? "1" : "0"}}`;
      return {
        "s-1": respond("A red circle and a blue square.", "1"), // faithful: passes (tp)
        "s-2": respond("A red circle and a green star.", "1"), // hallucinates: passes (fp)
        "s-3": respond("A blue square.", "1"), // misses the circle: fails (tn)
      }[id] as string;
    });
    const samples = ["s-1", "s-2", "s-3"].map((id) =>
      sample(id, "1", { objects: [RED_CIRCLE, BLUE_SQUARE], description: "A red circle and a blue square." }),
    );
    const out = path.join(await tempDir(), "p.jsonl");
    const engine = new RefinementEngine({ policy, auditSelfReward: true, countHallucinations });
    const { stats } = await engine.run({ samples, out });
    expect(stats.self_reward.agreement.gold).toMatchObject({ checks: 3, passed: 3, tp: 3, recall: 1 });
    expect(stats.self_reward.agreement.response).toMatchObject({
      checks: 3,
      passed: 2,
      tp: 1,
      fp: 1,
      fn: 0,
      tn: 1,
      precision: 0.5,
      accuracy: 0.666667,
    });
    const off = await new RefinementEngine({ policy, countHallucinations }).run({
      samples,
      out: path.join(await tempDir(), "p.jsonl"),
    });
    expect(off.stats.self_reward.agreement.gold.checks).toBe(0);
  });
});

/** Every sample wrong at round 0 and right, faithfully, at round 1: one pair each. */
function alwaysCorrected(): ScriptedPolicy {
  return new ScriptedPolicy(({ request, round, textOnly }) => {
    const id = sampleIdOf(request.messages[0].content) as string;
    const gold = GOLD_OF[id];
    if (textOnly) return `\\boxed{${gold}}`;
    return round === 0
      ? respond(`A blue star next to ${id}.`, gold === "yes" ? "no" : gold === "no" ? "yes" : "9")
      : respond(`A red circle, ${id}.`, gold);
  });
}
const GOLD_OF: Record<string, string> = {};
const FAMILY_SAMPLES: Sample[] = [
  ...["s-c0", "s-c1", "s-c2", "s-c3"].map((id, i) => sample(id, String(i + 1), { family: "count" })),
  ...["s-e0", "s-e1", "s-e2", "s-e3"].map((id, i) =>
    sample(id, i < 3 ? "yes" : "no", { family: "exist", answer_type: "yes_no" }),
  ),
];
for (const s of FAMILY_SAMPLES) GOLD_OF[s.id] = s.answer;

describe("balance", () => {
  it("keeps as many yes as no pairs and as many pairs a family, whatever the input order", async () => {
    const options = { balance: ["families", "yesno"] as const, seed: 3 };
    const a = await runToFiles(options, FAMILY_SAMPLES, alwaysCorrected());
    expect(a.stats.pairs).toBe(8);
    expect(a.stats.pairs_by_yes_no).toEqual({ yes: 3, no: 1 });
    expect(a.stats.pairs_pass).toMatchObject({
      before: 8,
      after: 4,
      by_family_after: { count: 2, exist: 2 },
      yes_no_after: { yes: 1, no: 1 },
    });
    expect(a.pairs.map((p) => p.meta?.family).sort()).toEqual(["count", "count", "exist", "exist"]);
    expect(a.pairs.filter((p) => p.meta?.family === "exist").map((p) => p.meta?.answer)).toContain("no");
    const b = await runToFiles(options, [...FAMILY_SAMPLES].reverse(), alwaysCorrected());
    expect(b.pairs).toEqual(a.pairs);
  });

  it("without it every pair found is written", async () => {
    const { pairs, stats } = await runToFiles({}, FAMILY_SAMPLES, alwaysCorrected());
    expect(pairs).toHaveLength(8);
    expect(stats.pairs_pass).toBeNull();
  });

  it("a rerun resumes from the pairs found, not from the balanced ones", async () => {
    const out = path.join(await tempDir(), "pairs.jsonl");
    const run = (samples: Sample[], policy = alwaysCorrected()) =>
      new RefinementEngine({ policy, balance: ["yesno"] }).run({ samples, out });
    await run(FAMILY_SAMPLES.slice(0, 6));
    const policy = alwaysCorrected();
    const { stats } = await run(FAMILY_SAMPLES, policy);
    expect(policy.calls).toBeGreaterThan(0);
    expect(stats).toMatchObject({ samples: 8, resumed: 6, pairs: 8, pairs_pass: { before: 8, after: 6 } });
    expect(await readLines(out)).toHaveLength(6);
  });
});

describe("ablations", () => {
  it("random negatives: each pair's loser is another pair's", async () => {
    const refined = await runToFiles({}, FAMILY_SAMPLES, alwaysCorrected());
    const random = await runToFiles({ negatives: "random" }, FAMILY_SAMPLES, alwaysCorrected());
    const loserOf = new Map(refined.pairs.map((p) => [p.sample_id, p.rejected]));
    expect(random.pairs.map((p) => p.chosen)).toEqual(refined.pairs.map((p) => p.chosen));
    for (const p of random.pairs) {
      expect(p.meta).toMatchObject({ negative: "random" });
      expect(p.meta?.rejected_from).not.toBe(p.sample_id);
      expect(p.rejected).toBe(loserOf.get(p.meta?.rejected_from as string));
    }
    expect(new Set(random.pairs.map((p) => p.rejected)).size).toBe(8);
    expect(random.stats.pairs_pass).toMatchObject({ before: 8, after: 8, random_negatives: 8 });
  });

  it("random negatives drop a lone pair, which has no other loser to take", async () => {
    const { pairs } = await runToFiles(
      { negatives: "random" },
      FAMILY_SAMPLES.slice(0, 1),
      alwaysCorrected(),
    );
    expect(pairs).toEqual([]);
  });

  it("corrupted negatives: the loser answers a corrupted copy of the image (STIC)", async () => {
    const corrupted = Uint8Array.from([1, 2, 3]);
    const seeds: number[] = [];
    const policy = new ScriptedPolicy(({ request, textOnly }) => {
      if (textOnly) return "\\boxed{1}";
      return request.image === corrupted
        ? respond("Two blue squares.", "2")
        : respond("One red circle.", "1");
    });
    const engine = new RefinementEngine({
      policy,
      negatives: "corrupted",
      corruptImage: async (_image, _sample, seed) => {
        seeds.push(seed);
        return { image: corrupted, corruption: "blur" };
      },
    });
    const { outcome, pair } = await engine.refine(sample("s-1", "1"));
    expect(outcome.outcome).toBe("round0_pair");
    expect(pair).toMatchObject({
      chosen: respond("One red circle.", "1"),
      rejected: respond("Two blue squares.", "2"),
      meta: { negative: "corrupted", corruption: "blur", rejected_correct: false },
    });
    expect(seeds).toEqual([requestSeed(0, "s-1", "corruption")]);
    expect(() => new RefinementEngine({ policy, negatives: "corrupted" })).toThrow(/corruptImage/);
  });

  it("verify: false takes any right answer, unformatted and failing the self-reward check", async () => {
    const policy = new ScriptedPolicy(({ round, textOnly }) => {
      if (textOnly) return "\\boxed{no idea}";
      return round === 0 ? respond("A blue star.", "2") : "It is \\boxed{1} I guess";
    });
    const verified = await new RefinementEngine({ policy }).refine(sample("s-1", "1"));
    expect(verified.pair).toBeUndefined();
    const engine = new RefinementEngine({ policy, verify: false });
    const { pair, outcome } = await engine.refine(sample("s-1", "1"));
    expect(outcome).toMatchObject({ outcome: "corrected", self_reward_checked: 0 });
    expect(pair?.chosen).toBe("It is \\boxed{1} I guess");
    expect(engine.options).toMatchObject({ verify: false, format_check: "off", self_reward: false });
  });

  it("a rerun with another negatives source is refused", async () => {
    const out = path.join(await tempDir(), "pairs.jsonl");
    await new RefinementEngine({ policy: alwaysCorrected() }).run({ samples: FAMILY_SAMPLES, out });
    await expect(
      new RefinementEngine({ policy: alwaysCorrected(), negatives: "random" }).run({
        samples: FAMILY_SAMPLES,
        out,
      }),
    ).rejects.toThrow(/negatives="refined", now negatives="random"/);
    expect(JSON.parse(await readFile(out.replace(/jsonl$/, "stats.json"), "utf8")).options.negatives).toBe(
      "refined",
    );
  });
});
