import { memory } from "@sr2se/tensor";
import { describe, expect, it } from "vitest";
import type { Branch, BranchHook } from "../src/generation/branch.js";
import { decode } from "../src/generation/generate.js";
import { tinyPng, tinyVlm } from "./tiny.js";

const vlm = tinyVlm(3);
const tok = vlm.tokenizer;
const questions = ["How many circles are there?", "Is there a green triangle?", "How many circles?"];
const pixels = await vlm.pixelsOf(tinyPng(255, 0, 0));
const prompts = questions.map((q, i) => ({
  ids: vlm.promptIds([{ role: "user", content: q }], i !== 1),
  pixels: i !== 1 ? pixels : undefined,
}));
const forced = tok.encode("</think>\n\\boxed{");
const opts = { maxTokens: 12, seed: 0, stop: [] };

/** A hook that branches every request after `at` generated tokens and records what it saw. */
function hookAt(at: number, end: (b: Branch) => boolean = () => false, maxTokens = 4) {
  const seen: Branch[] = [];
  const hook: BranchHook = {
    fork: (_request, generated) => (generated.length === at ? forced : null),
    until: (text) => text.indexOf("}"),
    maxTokens,
    decide: (branches) => {
      seen.push(...branches);
      return branches.filter(end).map((b) => b.request);
    },
  };
  return { hook, seen };
}

describe("decode branches", () => {
  it("a branch continues greedily exactly as decoding its whole prefix from scratch would", async () => {
    const plain = await decode(vlm, tok, prompts, opts);
    const { hook, seen } = hookAt(5);
    await decode(vlm, tok, prompts, { ...opts, branches: hook });
    expect(seen.map((b) => b.request).sort()).toEqual([0, 1, 2]);
    for (const b of seen) {
      const prefix = {
        ...prompts[b.request],
        ids: [...prompts[b.request].ids, ...plain[b.request].ids.slice(0, 5), ...forced],
      };
      const [ref] = await decode(vlm, tok, [prefix], { ...opts, maxTokens: 4, hiddenStates: [0] });
      expect(b.ids).toEqual(ref.ids.slice(0, b.ids.length));
      expect(b.at).toBe(5);
      for (let j = 0; j < b.ids.length; j++) expect(b.logprobs[j]).toBeCloseTo(ref.logprobs[j], 4);
      const h = ref.hidden?.[0] as Float32Array;
      for (let e = 0; e < h.length; e++) expect(b.hidden[e]).toBeCloseTo(h[e], 4);
      expect(
        b.entropies.every((x) => x >= 0 && x <= Math.log(vlm.config.text_config.vocab_size) + 1e-6),
      ).toBe(true);
    }
  });

  it("branching without ending leaves every request's generation as it was", async () => {
    const plain = await decode(vlm, tok, prompts, opts);
    const { hook } = hookAt(0);
    const branched = await decode(vlm, tok, prompts, { ...opts, branches: hook });
    expect(branched.map((d) => d.ids)).toEqual(plain.map((d) => d.ids));
  });

  it("an ended request stops with its branch appended while the others go on", async () => {
    const plain = await decode(vlm, tok, prompts, opts);
    const { hook, seen } = hookAt(3, (b) => b.request === 1);
    const out = await decode(vlm, tok, prompts, { ...opts, branches: hook });
    const b = seen.find((x) => x.request === 1) as Branch;
    expect(out[1].branch).toBe(b);
    expect(out[1].ids).toEqual([...plain[1].ids.slice(0, 3), ...forced, ...b.ids]);
    expect(out[1].text).toBe(tok.decode([...plain[1].ids.slice(0, 3), ...forced]) + b.text);
    expect(out[1].finishReason).toBe("stop");
    expect(out[0].ids).toEqual(plain[0].ids);
    expect(out[2].ids).toEqual(plain[2].ids);
  });

  it("leaves no tensors behind", async () => {
    const { hook } = hookAt(2, (b) => b.request === 0);
    await decode(vlm, tok, prompts, { ...opts, branches: hook });
    const before = memory().tensors;
    await decode(vlm, tok, prompts, { ...opts, branches: hookAt(2, (b) => b.request === 0).hook });
    expect(memory().tensors).toBe(before);
  });

  it("returns entropies and the likeliest tokens on request", async () => {
    const [d] = await decode(vlm, tok, prompts.slice(0, 1), { ...opts, entropy: true, topLogprobs: 3 });
    expect(d.entropies).toHaveLength(d.ids.length);
    expect(d.top).toHaveLength(d.ids.length);
    d.top?.forEach((top, j) => {
      expect(top).toHaveLength(3);
      expect(top[0].id).toBe(d.ids[j]);
      expect(top[0].logprob).toBeCloseTo(d.logprobs[j], 5);
      expect(top[0].logprob).toBeGreaterThanOrEqual(top[1].logprob);
      expect(top[1].logprob).toBeGreaterThanOrEqual(top[2].logprob);
    });
  });
});
