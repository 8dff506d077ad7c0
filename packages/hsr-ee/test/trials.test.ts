import { decode } from "@sr2se/vlm";
import { describe, expect, it } from "vitest";
import { splitSteps, trialPrefix } from "../src/index.js";
import { alwaysDeep, type Gate, generateTrials, probabilityGate } from "../src/tensor.js";
import { images, items, tinyPolicy } from "./policy.js";

const vlm = await tinyPolicy();
const pixels = await Promise.all(images.map((im) => vlm.pixelsOf(im)));
const requests = items.map((it, i) => ({
  messages: [{ role: "user" as const, content: it.question }],
  pixels: pixels[i],
}));

describe("trial answers from the KV cache", () => {
  it("takes one trial after step 0 and after every step of the response, in order", async () => {
    const trajectories = await generateTrials(vlm, requests, { maxTokens: 80 });
    for (const t of trajectories) {
      const steps = splitSteps(t.response);
      expect(steps.length).toBeGreaterThan(2);
      expect(t.steps.map((s) => s.step)).toEqual(steps.map((s) => s.index));
      expect(t.steps.map((s) => s.part)).toEqual(steps.map((s) => s.part));
      expect(t.steps.every((s, k) => k === 0 || s.tokens > t.steps[k - 1].tokens)).toBe(true);
    }
  });

  it("each trial answer is what greedy decoding continues the prompt and trialPrefix(response, k) with", async () => {
    const trajectories = await generateTrials(vlm, requests, { maxTokens: 80 });
    for (const [i, t] of trajectories.entries()) {
      for (const s of t.steps) {
        const ids = [
          ...vlm.promptIds(requests[i].messages, true),
          ...vlm.tokenizer.encode(trialPrefix(t.response, s.step)),
        ];
        const [ref] = await decode(vlm, vlm.tokenizer, [{ ids, pixels: pixels[i] }], {
          maxTokens: 32,
          seed: 0,
          stop: ["}"],
          hiddenStates: [0],
        });
        expect(s.answer).toBe(ref.text);
        expect(s.closed).toBe(true);
        const h = ref.hidden?.[0] as Float32Array;
        for (let e = 0; e < h.length; e++) expect(s.hidden[e]).toBeCloseTo(h[e], 3);
        expect(s.probability).toBeCloseTo(Math.exp(ref.logprobs.reduce((a, b) => a + b, 0)), 4);
        expect(s.minProb).toBeLessThanOrEqual(s.meanProb);
      }
    }
  });

  it("a trained policy answers right after every step", async () => {
    const trajectories = await generateTrials(vlm, requests, { maxTokens: 80 });
    trajectories.forEach((t, i) => {
      expect(t.steps.map((s) => s.answer)).toEqual(t.steps.map(() => items[i].answer));
    });
  });

  it("a gate ends a row at the first trial it lets out; always-deep ends none", async () => {
    const deep = await generateTrials(vlm, requests, { maxTokens: 80, gate: alwaysDeep, tau: 0.5 });
    const plain = await vlm.generateFromPixels(requests, { maxTokens: 80 });
    expect(deep.map((t) => t.response)).toEqual(plain.map((g) => g.text));
    expect(deep.every((t) => t.exitLevel === undefined)).toBe(true);
    const early = await generateTrials(vlm, requests, { maxTokens: 80, gate: probabilityGate, tau: 0 });
    for (const [i, t] of early.entries()) {
      expect(t.exitLevel).toBe(0);
      expect(t.response).toBe(`\\boxed{${items[i].answer}}`);
      expect(t.tokens).toBeLessThan(deep[i].tokens);
    }
  });

  it("gating on the first token in the main forward (peek) exits where full trials would, with the same text", async () => {
    // a gate that reads the first token's probability from the second step on
    const late: Gate = {
      name: "late",
      confidences: (steps) => steps.map((s) => (s.step >= 2 ? s.firstProb : 0)),
    };
    const full = await generateTrials(vlm, requests, {
      maxTokens: 80,
      gate: late,
      tau: 0.5,
      peek: false,
    });
    const peek = await generateTrials(vlm, requests, {
      maxTokens: 80,
      gate: late,
      tau: 0.5,
      peek: true,
    });
    expect(peek.map((t) => t.exitLevel)).toEqual(full.map((t) => t.exitLevel));
    expect(peek.map((t) => t.response)).toEqual(full.map((t) => t.response));
    expect(peek.map((t) => t.tokens)).toEqual(full.map((t) => t.tokens));
    for (const [i, t] of peek.entries())
      t.confidences?.forEach((c, k) => {
        expect(c).toBeCloseTo(full[i].confidences?.[k] as number, 4);
      });
    expect(peek.some((t) => (t.exitLevel ?? 0) > 0)).toBe(true);
  });

  it("a gate that lets out the second step's trial ends the row there, the others go on", async () => {
    const gate: Gate = { name: "second", confidences: (steps) => steps.map((s) => (s.step === 2 ? 1 : 0)) };
    const [deep] = await generateTrials(vlm, requests.slice(0, 1), { maxTokens: 80 });
    const [t] = await generateTrials(vlm, requests.slice(0, 1), { maxTokens: 80, gate, tau: 0.5 });
    expect(t.exitLevel).toBe(2);
    expect(t.confidence).toBe(1);
    expect(t.response).toBe(`${trialPrefix(deep.response, 2)}${items[0].answer}}`);
  });
});
