import { verifyPrompt as coreVerifyPrompt } from "@sr2se/core";
import { computeScore } from "@sr2se/hsr-ee";
import { IGNORE_INDEX, useFastestBackend, VLM } from "@sr2se/vlm";
import { beforeAll, describe, expect, it } from "vitest";
import {
  descriptionAnswers,
  descriptionLeaksAnswer,
  type RolloutPrompt,
  rolloutSequence,
  sampleRollouts,
  scoreResponse,
  verifyPrompt,
} from "../src/tensor.js";
import { tinyRun } from "./tiny.js";

describe("verifyPrompt", () => {
  it("is core's Vision-SR1 self-reward prompt (tested there), not a copy", () => {
    expect(verifyPrompt).toBe(coreVerifyPrompt);
  });
});

describe("scoreResponse", () => {
  const response = "<description>Two red circles.</description>\n<think>Count.</think>\n\\boxed{2}";
  it("vision-sr1 is computeScore", () => {
    const input = { response, groundTruth: "2", descriptionAnswer: "<think>x</think>\\boxed{3}" };
    expect(scoreResponse("vision-sr1", input)).toEqual(computeScore(input));
    expect(() => scoreResponse("vision-sr1", { response, groundTruth: "2" })).toThrow(/description answer/);
  });

  it("accuracy is 0.9·accuracy + 0.1·format with no description terms", () => {
    expect(scoreResponse("accuracy", { response, groundTruth: "2" })).toEqual({
      overall: 1,
      format: 1,
      accuracy: 1,
    });
    expect(scoreResponse("accuracy", { response: "\\boxed{2}", groundTruth: "2" }).overall).toBeCloseTo(
      0.9,
      12,
    );
    expect(scoreResponse("accuracy", { response, groundTruth: "3" }).overall).toBeCloseTo(0.1, 12);
  });
});

describe("descriptionLeaksAnswer", () => {
  const r = (d: string, a: string) => `<description>${d}</description><think>t</think>\\boxed{${a}}`;
  it("flags a description that states the answer", () => {
    expect(descriptionLeaksAnswer(r("A red circle. Yes, there is one.", "yes"))).toBe(true);
    expect(descriptionLeaksAnswer(r("There are 3 circles.", "3"))).toBe(true);
    expect(descriptionLeaksAnswer(r("The answer is below.", "2"))).toBe(true);
    expect(descriptionLeaksAnswer(r("Pick (B).", "B"))).toBe(true);
    expect(descriptionLeaksAnswer(r("So \\boxed{2}", "2"))).toBe(true);
  });

  it("passes an honest description, a description without the word, and a long answer", () => {
    expect(descriptionLeaksAnswer(r("A small red circle top-left.", "yes"))).toBe(false);
    expect(descriptionLeaksAnswer(r("A small red circle top-left.", "A"))).toBe(false);
    expect(descriptionLeaksAnswer(r("Eyes. 13 dots.", "3"))).toBe(false);
    expect(descriptionLeaksAnswer(r("A red circle, a blue star.", "red circle, blue star"))).toBe(false);
  });

  it("flags a response without a description: the second pass is shown the whole response", () => {
    expect(descriptionLeaksAnswer("<think>t</think>\\boxed{2}")).toBe(true);
  });
});

describe("rollouts on a tiny model", () => {
  let policy: VLM;
  let prompts: RolloutPrompt[];
  beforeAll(async () => {
    await useFastestBackend();
    const run = await tinyRun();
    policy = await VLM.load(run.ckpt);
    prompts = await Promise.all(
      run.train.slice(0, 3).map(async (s) => ({ ...s, pixels: await policy.pixelsOf(s.image as string) })),
    );
  }, 120_000);

  const settings = { n: 4, temperature: 1, topP: 1, maxTokens: 16, batchSize: 12, seed: 9 };

  it("samples n responses a prompt, prompt-major, the same however they are batched", async () => {
    const a = await sampleRollouts(policy, prompts, settings);
    expect(a.map((r) => r.prompt)).toEqual([0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2]);
    expect(new Set(a.slice(0, 4).map((r) => r.text)).size).toBeGreaterThan(1);
    const b = await sampleRollouts(policy, prompts, { ...settings, batchSize: 5 });
    expect(b.map((r) => r.responseIds)).toEqual(a.map((r) => r.responseIds));
    const c = await sampleRollouts(policy, prompts, { ...settings, seed: 10 });
    expect(c.map((r) => r.text)).not.toEqual(a.map((r) => r.text));
  });

  it("turns a rollout into a sequence whose labels are exactly the response tokens", async () => {
    const [r] = await sampleRollouts(policy, prompts.slice(0, 1), { ...settings, n: 2 });
    const seq = rolloutSequence(r, prompts[0].pixels);
    expect(seq.ids).toEqual([...r.promptIds, ...r.responseIds].slice(0, -1));
    expect((seq.labels ?? []).filter((l) => l !== IGNORE_INDEX)).toEqual(r.responseIds);
    const { logProbs, tokens } = policy.tokenLogProbsOf([seq]);
    expect(tokens).toEqual([r.responseIds.length]);
    logProbs.dispose();
  });

  it("answers each response's description without the image, one answer a response", async () => {
    const rollouts = await sampleRollouts(policy, prompts, settings);
    const answers = await descriptionAnswers(policy, prompts, rollouts, settings);
    expect(answers.length).toBe(rollouts.length);
    for (const a of answers) expect(typeof a).toBe("string");
  });
});
