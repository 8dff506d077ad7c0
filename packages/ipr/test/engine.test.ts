import { readFile } from "node:fs/promises";
import path from "node:path";
import { OpenAIError, type PreferencePair } from "@sr2se/core";
import { SHAPES_WORLD_VOCABULARY } from "@sr2se/data";
import { createHallucinationCounter } from "@sr2se/eval";
import { describe, expect, it } from "vitest";
import { chatMlPrompt, RefinementEngine, type SampleOutcome, ScriptedPolicy } from "../src/index.js";
import { readLines, respond, sample, sampleIdOf, tempDir } from "./helpers.js";

/** CHAIR's per-response counts over the shapes world, as `sr2se ipr generate` wires them. */
const countHallucinations = createHallucinationCounter({ vocabulary: SHAPES_WORLD_VOCABULARY });

// Round by round answers of each sample; the last entry repeats. FAITHFUL descriptions pass the self-reward check.
const PLAN: Record<string, string[]> = {
  "s-0": [respond("FAITHFUL three red circles", "3")],
  "s-1": [respond("a blue square and a red circle", "2"), respond("FAITHFUL one red circle", "1")],
  "s-2": [respond("two green stars", "5")],
  "s-3": [
    respond("a yellow triangle", "7"),
    respond("a yellow hexagon", "8"),
    respond("FAITHFUL four circles", "4"),
  ],
  "s-4": [respond("a purple heart", "0"), respond("lucky guess, a purple heart", "2")],
  "s-5": [respond("an orange cross", "9"), "I think it is \\boxed{6}"],
};
const GOLD: Record<string, string> = {
  "s-0": "3",
  "s-1": "1",
  "s-2": "4",
  "s-3": "4",
  "s-4": "2",
  "s-5": "6",
};

function planPolicy() {
  return new ScriptedPolicy(
    ({ request, round, textOnly }) => {
      const id = sampleIdOf(request.messages[0].content) as string;
      if (textOnly) {
        const faithful = request.messages[0].content.includes("FAITHFUL");
        return {
          text: `<think>From the text.</think> \\boxed{${faithful ? GOLD[id] : "no idea"}}`,
          tokens: 5,
        };
      }
      const answers = PLAN[id];
      return { text: answers[Math.min(round, answers.length - 1)], tokens: 10 };
    },
    { record: true },
  );
}

const SAMPLES = Object.keys(PLAN).map((id) =>
  sample(
    id,
    GOLD[id],
    id === "s-1" ? { objects: [{ shape: "circle", color: "red", size: "small", cell: [0, 0] }] } : {},
  ),
);

describe("RefinementEngine.refine", () => {
  it("emits a pair whose chosen is the corrected answer and rejected the round-0 answer, both to the original prompt", async () => {
    const engine = new RefinementEngine({ policy: planPolicy(), rounds: 3, policyName: "scripted" });
    const { outcome, pair } = await engine.refine(SAMPLES[3]);
    expect(outcome.outcome).toBe("corrected");
    expect(outcome.round).toBe(2);
    expect(pair).toEqual({
      id: "p-s-3",
      sample_id: "s-3",
      image: "images/s-3.png",
      prompt: chatMlPrompt(engine.promptMessages(SAMPLES[3])),
      chosen: PLAN["s-3"][2],
      rejected: PLAN["s-3"][0],
      meta: {
        source: "ipr",
        round: 2,
        chosen_correct: true,
        rejected_correct: false,
        chosen_answer: "4",
        rejected_answer: "7",
        answer: "4",
        answer_type: "integer",
        temperature: 0.7,
        negative: "refined",
        policy: "scripted",
      },
    });
    expect(pair?.prompt).not.toContain("re-examine");
  });

  it("asks round r with the whole chat: original prompt, then each answer and refinement turn", async () => {
    const policy = planPolicy();
    const engine = new RefinementEngine({ policy, rounds: 3 });
    await engine.refine(SAMPLES[2]);
    const image = policy.log.filter((l) => l.request.image !== undefined);
    expect(image.map((l) => l.request.messages.length)).toEqual([1, 3, 5, 7]);
    const last = image[3].request.messages;
    expect(last.map((m) => m.role)).toEqual([
      "user",
      "assistant",
      "user",
      "assistant",
      "user",
      "assistant",
      "user",
    ]);
    expect(last[2].content).toMatch(/^Your description is inaccurate/);
    expect(image.map((l) => l.options.temperature)).toEqual([0, 0.7, 0.7, 0.7]);
  });

  it("stops a never-corrected sample after K refinement rounds", async () => {
    const engine = new RefinementEngine({ policy: planPolicy(), rounds: 2 });
    const { outcome, pair } = await engine.refine(SAMPLES[2]);
    expect(pair).toBeUndefined();
    expect(outcome).toMatchObject({ outcome: "never_corrected", round: null, rounds: 3, responses: 3 });
  });

  it("counts a right answer whose description fails the self-reward check, and emits no pair", async () => {
    const engine = new RefinementEngine({ policy: planPolicy() });
    const { outcome, pair } = await engine.refine(SAMPLES[4]);
    expect(pair).toBeUndefined();
    expect(outcome).toMatchObject({
      outcome: "filtered_self_reward",
      round: 1,
      self_reward_checked: 1,
      self_reward_passed: 0,
    });
  });

  it("emits the lucky pair when the self-reward check is off", async () => {
    const engine = new RefinementEngine({ policy: planPolicy(), selfReward: false });
    const { outcome, pair } = await engine.refine(SAMPLES[4]);
    expect(outcome.outcome).toBe("corrected");
    expect(pair?.chosen).toBe(PLAN["s-4"][1]);
  });

  it("filters a right answer without the response format, and passes it with formatCheck off", async () => {
    const strict = await new RefinementEngine({ policy: planPolicy() }).refine(SAMPLES[5]);
    expect(strict.outcome).toMatchObject({
      outcome: "filtered_format",
      format_failures: 1,
      self_reward_checked: 0,
    });
    const off = await new RefinementEngine({
      policy: planPolicy(),
      formatCheck: "off",
      selfReward: false,
    }).refine(SAMPLES[5]);
    expect(off.pair?.chosen).toBe("I think it is \\boxed{6}");
  });

  it("takes the most confident wrong response (per-token logprob) as the hard negative", async () => {
    const wrong = [
      { text: respond("a red star", "5"), logprob: -50, tokens: 10 },
      { text: respond("a blue star", "6"), logprob: -4, tokens: 8 },
      { text: respond("a green star", "7"), logprob: -3, tokens: 2 },
    ];
    let i = 0;
    const policy = new ScriptedPolicy(
      ({ round, textOnly }) => {
        if (textOnly) return "\\boxed{3}";
        return round === 0 ? wrong[i++ % 3] : { text: respond("FAITHFUL", "3"), logprob: -1, tokens: 1 };
      },
      { record: true },
    );
    const engine = new RefinementEngine({ policy, samplesPerRound: 3, temperature: 1 });
    const { pair } = await engine.refine(sample("s-x", "3"));
    expect(pair?.rejected).toBe(wrong[1].text);
    const round1 = policy.log.find((l) => l.request.messages.length === 3);
    expect(round1?.request.messages[1].content).toBe(wrong[1].text);
  });

  it("keeps a round-0 success that passes the filters as an SFT record", async () => {
    const engine = new RefinementEngine({ policy: planPolicy(), keepSft: true });
    const { outcome, sft } = await engine.refine(SAMPLES[0]);
    expect(outcome).toMatchObject({
      outcome: "round0_correct",
      round: 0,
      sft_id: "s-0",
      self_reward_checked: 1,
    });
    expect(sft).toMatchObject({
      id: "s-0",
      answer: "3",
      response: PLAN["s-0"][0],
      meta: { source: "ipr", round: 0 },
    });
  });

  it("measures the hallucination rate of both sides where the sample lists its objects", async () => {
    const engine = new RefinementEngine({ policy: planPolicy(), countHallucinations });
    const { outcome, pair } = await engine.refine(SAMPLES[1]);
    expect(outcome.hallucination).toEqual({
      chosen: { mentioned: 1, hallucinated: 0 },
      rejected: { mentioned: 2, hallucinated: 1 },
    });
    expect(pair?.meta?.hallucination).toEqual({ chosen: 0, rejected: 0.5 });
  });

  it("without a hallucination counter, records no hallucination counts", async () => {
    const engine = new RefinementEngine({ policy: planPolicy() });
    const { outcome, pair } = await engine.refine(SAMPLES[1]);
    expect(outcome.hallucination).toBeUndefined();
    expect(pair?.meta?.hallucination).toBeUndefined();
  });
});

describe("RefinementEngine.run", () => {
  it("writes exactly the expected pairs, outcomes and statistics", async () => {
    const dir = await tempDir();
    const out = path.join(dir, "pairs.jsonl");
    const engine = new RefinementEngine({
      policy: planPolicy(),
      rounds: 3,
      keepSft: true,
      concurrency: 3,
      batchSize: 4,
      countHallucinations,
    });
    const { stats, errors, files } = await engine.run({ samples: SAMPLES, out });
    expect(errors).toEqual([]);
    const pairs = (await readLines<PreferencePair>(out)).sort((a, b) => a.id.localeCompare(b.id));
    expect(pairs.map((p) => [p.id, p.chosen, p.rejected, p.meta?.round])).toEqual([
      ["p-s-1", PLAN["s-1"][1], PLAN["s-1"][0], 1],
      ["p-s-3", PLAN["s-3"][2], PLAN["s-3"][0], 2],
    ]);
    const outcomes = await readLines<SampleOutcome>(files.outcomes);
    expect(outcomes.map((o) => [o.id, o.outcome]).sort()).toEqual([
      ["s-0", "round0_correct"],
      ["s-1", "corrected"],
      ["s-2", "never_corrected"],
      ["s-3", "corrected"],
      ["s-4", "filtered_self_reward"],
      ["s-5", "filtered_format"],
    ]);
    expect((await readLines(files.sft as string)).map((r) => r.id)).toEqual(["s-0"]);
    expect(stats).toMatchObject({
      samples: 6,
      resumed: 0,
      errors: 0,
      outcomes: {
        round0_correct: 1,
        corrected: 2,
        filtered_format: 1,
        filtered_self_reward: 1,
        never_corrected: 1,
      },
      pairs: 2,
      sft: 1,
      pairs_per_sample: 0.333333,
      never_corrected_share: 0.2,
      per_round: [
        { round: 0, attempted: 6, correct: 1, rate: 0.166667 },
        { round: 1, attempted: 5, correct: 3, rate: 0.6 },
        { round: 2, attempted: 2, correct: 1, rate: 0.5 },
        { round: 3, attempted: 1, correct: 0, rate: 0 },
      ],
      format_failures: { responses: 1, total_responses: 14, winners_filtered: 1 },
      self_reward: { checked: 4, passed: 3, winners_filtered: 1 },
      tokens: { generated: 140, self_reward: 20 },
      hallucination: {
        winners: { responses: 1, mentioned: 1, hallucinated: 0, rate: 0 },
        losers: { responses: 1, mentioned: 2, hallucinated: 1, rate: 0.5 },
      },
      options: {
        rounds: 3,
        samples_per_round: 1,
        temperature: [0, 0.7, 0.7, 0.7],
        keep_sft: true,
        self_reward: true,
      },
    });
    expect(stats.policy.requests).toBe(18);
    expect(JSON.parse(await readFile(files.stats, "utf8"))).toMatchObject({ samples: 6, pairs: 2 });
  });

  it("resumes: a second run over the same output skips every sample it holds", async () => {
    const dir = await tempDir();
    const out = path.join(dir, "pairs.jsonl");
    await new RefinementEngine({ policy: planPolicy() }).run({ samples: SAMPLES.slice(0, 3), out });
    const policy = planPolicy();
    const { stats } = await new RefinementEngine({ policy }).run({ samples: SAMPLES, out });
    const asked = new Set(policy.log.map((l) => sampleIdOf(l.request.messages[0].content)));
    expect([...asked].sort()).toEqual(["s-3", "s-4", "s-5"]);
    expect(stats).toMatchObject({ samples: 6, resumed: 3, pairs: 2 });
    expect((await readLines(out)).length).toBe(2);
  });

  it("refuses to resume an output started with other options", async () => {
    const dir = await tempDir();
    const out = path.join(dir, "pairs.jsonl");
    await new RefinementEngine({ policy: planPolicy(), rounds: 3 }).run({ samples: SAMPLES, out });
    await expect(
      new RefinementEngine({ policy: planPolicy(), rounds: 2 }).run({ samples: SAMPLES, out }),
    ).rejects.toThrow(/started with rounds=3, now rounds=2/);
  });

  it("batches the policy calls and never runs more than maxInFlight at once", async () => {
    let running = 0;
    let peak = 0;
    const sizes: number[] = [];
    const policy = {
      async generate(requests: { messages: { content: string }[] }[]) {
        running++;
        peak = Math.max(peak, running);
        sizes.push(requests.length);
        await new Promise((r) => setTimeout(r, 2));
        running--;
        return requests.map(() => ({ text: respond("FAITHFUL", "1") }));
      },
    };
    const engine = new RefinementEngine({
      policy,
      concurrency: 40,
      batchSize: 8,
      maxInFlight: 2,
      selfReward: false,
    });
    const dir = await tempDir();
    const samples = Array.from({ length: 200 }, (_, i) => sample(`s-${i}`, "1"));
    const { stats } = await engine.run({ samples, out: path.join(dir, "p.jsonl") });
    expect(stats.outcomes.round0_correct).toBe(200);
    expect(peak).toBeLessThanOrEqual(2);
    expect(Math.max(...sizes)).toBe(8);
    expect(stats.policy.calls).toBeLessThan(50);
  });

  it("reports a policy that returns the wrong number of generations as an error of each sample", async () => {
    const short = { generate: async () => [] };
    const engine = new RefinementEngine({ policy: short, batchSize: 2, selfReward: false });
    const dir = await tempDir();
    const { errors } = await engine.run({ samples: [sample("s-1", "1")], out: path.join(dir, "p.jsonl") });
    expect(errors.map((e) => e.message)).toEqual(["policy.generate returned 0 generations for 1 requests"]);
  });

  it("records a sample the policy fails on as an error, not as done, and aborts past maxErrors", async () => {
    const dir = await tempDir();
    const out = path.join(dir, "pairs.jsonl");
    const flaky = new ScriptedPolicy(({ request }) => {
      if (request.messages[0].content.includes("[s-2]")) throw new Error("server exploded");
      return respond("FAITHFUL", "3");
    });
    const engine = new RefinementEngine({ policy: flaky, batchSize: 1, selfReward: false });
    const samples = ["s-1", "s-2", "s-3"].map((id) => sample(id, "3"));
    const { errors, stats } = await engine.run({ samples, out });
    expect(errors).toEqual([{ id: "s-2", where: 'sample "s-2"', message: "server exploded" }]);
    expect(stats).toMatchObject({ samples: 2, errors: 1 });
    await expect(
      new RefinementEngine({ policy: flaky, batchSize: 1, selfReward: false }).run({
        samples,
        out,
        maxErrors: 0,
      }),
    ).rejects.toThrow(/1 samples failed \(more than 0\); last: sample "s-2": server exploded/);
  });

  it("stops every worker at an error no other request can escape (a refused key), whatever maxErrors", async () => {
    const dir = await tempDir();
    let calls = 0;
    const refused = new ScriptedPolicy(() => {
      calls++;
      throw new OpenAIError("http://policy/v1/chat/completions: HTTP 401: invalid api key", 401);
    });
    const engine = new RefinementEngine({ policy: refused, batchSize: 1, concurrency: 4, selfReward: false });
    const samples = Array.from({ length: 200 }, (_, i) => sample(`s-${i}`, "3"));
    await expect(
      engine.run({ samples, out: path.join(dir, "pairs.jsonl"), maxErrors: 1000 }),
    ).rejects.toThrow(/HTTP 401: invalid api key; stopped \(every other request would fail alike\)/);
    // the workers in flight finish their sample; none takes another
    expect(calls).toBeLessThanOrEqual(4);
  });
});
