import type { StreamedToken } from "@sr2se/core";
import { memory, noGrad, type tensor, tidy } from "@sr2se/tensor";
import { describe, expect, it } from "vitest";
import { IGNORE_INDEX } from "../src/data/encode.js";
import { tinyPng, tinyVlm } from "./tiny.js";

const vlm = tinyVlm(3);
const requests = [
  {
    image: tinyPng(255, 0, 0),
    messages: [{ role: "user" as const, content: "How many circles are there?" }],
  },
  { messages: [{ role: "user" as const, content: "Is there a green triangle?" }] },
  {
    image: tinyPng(0, 0, 255),
    messages: [
      { role: "system" as const, content: "Answer yes or no." },
      { role: "user" as const, content: "Is there a blue square in the image? Answer yes or no." },
    ],
  },
];

describe("generate", () => {
  it("KV-cache greedy decoding equals uncached greedy decoding token for token", async () => {
    // long enough to cross a cache block (the cache grows 64 slots at a time)
    const cached = await vlm.generate(requests, { maxTokens: 70 });
    const slow = await vlm.generate(requests, { maxTokens: 70, useCache: false });
    expect(cached.map((g) => g.tokens)).toEqual(slow.map((g) => g.tokens));
    expect(cached.map((g) => g.text)).toEqual(slow.map((g) => g.text));
    for (let i = 0; i < cached.length; i++) expect(cached[i].logprob).toBeCloseTo(slow[i].logprob, 3);
    expect(Math.max(...cached.map((g) => g.tokens))).toBeGreaterThan(50);
  });

  it("batched decoding gives each request what it gets alone", async () => {
    const together = await vlm.generate(requests, { maxTokens: 10 });
    for (let i = 0; i < requests.length; i++) {
      const [alone] = await vlm.generate([requests[i]], { maxTokens: 10 });
      expect(alone.text).toBe(together[i].text);
    }
  });

  it("sampling is reproducible from the seed and varies with it", async () => {
    const opts = { maxTokens: 10, temperature: 1.5, topK: 50, topP: 0.95 };
    const a = await vlm.generate(requests, { ...opts, seed: 1 });
    const b = await vlm.generate(requests, { ...opts, seed: 1 });
    const c = await vlm.generate(requests, { ...opts, seed: 2 });
    expect(a.map((g) => g.text)).toEqual(b.map((g) => g.text));
    expect(c.map((g) => g.text)).not.toEqual(a.map((g) => g.text));
  });

  it("a request's own seed samples the same text alone, in a batch and at another row", async () => {
    const opts = { maxTokens: 10, temperature: 1.5, topK: 50 };
    const seeded = requests.map((r, i) => ({ ...r, seed: 100 + i }));
    const batch = await vlm.generate(seeded, { ...opts, seed: 1 });
    const reversed = await vlm.generate([...seeded].reverse(), { ...opts, seed: 2 });
    for (let i = 0; i < seeded.length; i++) {
      const [alone] = await vlm.generate([seeded[i]], opts);
      expect(alone.text).toBe(batch[i].text);
      expect(reversed[seeded.length - 1 - i].text).toBe(batch[i].text);
    }
    const other = await vlm.generate(
      requests.map((r, i) => ({ ...r, seed: 200 + i })),
      opts,
    );
    expect(other.map((g) => g.text)).not.toEqual(batch.map((g) => g.text));
  });

  it("stops at a stop string and at maxTokens, and returns hidden states on request", async () => {
    const [free] = await vlm.generate([requests[0]], { maxTokens: 8 });
    expect(free.tokens).toBeLessThanOrEqual(8);
    const stop = free.text.slice(2, 4);
    const [cut] = await vlm.generate([requests[0]], { maxTokens: 8, stop: [stop], hiddenStates: "last" });
    expect(cut.text).toBe(free.text.slice(0, free.text.indexOf(stop)));
    expect(cut.finishReason).toBe("stop");
    expect(cut.hidden?.[0]).toHaveLength(vlm.config.text_config.hidden_size);
  });

  it("streams each request's tokens as they are sampled, and returns per-token log-probs with the top ones", async () => {
    const streamed: StreamedToken[][] = requests.map(() => []);
    const gens = await vlm.generate(
      requests.map((r, i) => ({ ...r, onToken: (t: StreamedToken) => streamed[i].push(t) })),
      { maxTokens: 30, temperature: 1.5, seed: 4, logprobs: true, topLogprobs: 3 },
    );
    const plain = await vlm.generate(requests, { maxTokens: 30, temperature: 1.5, seed: 4 });
    expect(gens.map((g) => g.text)).toEqual(plain.map((g) => g.text));
    gens.forEach((g, i) => {
      // text held back is only a character the response never finished (this random model writes some)
      const text = streamed[i].map((t) => t.text).join("");
      expect(g.text.startsWith(text)).toBe(true);
      expect(g.text.slice(text.length)).toMatch(/^\uFFFD*$/);
      expect(g.tokenLogprobs?.map((t) => t.logprob)).toEqual(streamed[i].map((t) => t.logprob));
      const lps = g.tokenLogprobs ?? [];
      // the end-of-turn token is left out of the list, not out of the summed log-prob
      const sum = lps.reduce((a, t) => a + t.logprob, 0);
      if (g.finishReason === "length") expect(sum).toBeCloseTo(g.logprob, 4);
      else expect(sum).toBeGreaterThanOrEqual(g.logprob - 1e-4);
      for (const t of lps) {
        if (!t.token.includes("\uFFFD")) expect(Buffer.from(t.bytes).toString("utf8")).toBe(t.token);
        expect(t.top).toHaveLength(3);
        expect(t.top?.[0].logprob).toBeGreaterThanOrEqual(t.logprob);
        expect(t.top?.[0].logprob).toBeGreaterThanOrEqual(t.top?.[2].logprob ?? 0);
      }
    });
  });

  it("leaves no tensors behind", async () => {
    await vlm.generate(requests, { maxTokens: 4 });
    const before = memory().tensors;
    await vlm.generate(requests, { maxTokens: 6 });
    expect(memory().tensors).toBe(before);
  });
});

describe("sequenceLogProbs", () => {
  it("leaves only its outputs behind: live tensors stay flat over training-like steps, gradients still flow", async () => {
    const batch = [
      { image: tinyPng(255, 0, 0), prompt: "How many circles are there?", completion: "\\boxed{2}" },
      { prompt: "Is there a green triangle?", completion: "<description>none</description>\\boxed{no}" },
    ];
    const live: number[] = [];
    for (let step = 0; step < 3; step++) {
      const { sum, mean } = await vlm.sequenceLogProbs(batch);
      const total = sum.sum();
      total.backward();
      const grad = await vlm.parameters()[0].grad?.data();
      expect(grad?.some((g) => g !== 0)).toBe(true);
      for (const t of [sum, mean, total]) t.dispose();
      for (const p of vlm.parameters()) {
        p.grad?.dispose();
        p.grad = null;
      }
      const seqs = batch.map((r) => vlm.encodeCompletion(r.prompt, r.completion, false));
      const { loss } = vlm.loss(seqs);
      loss.dispose();
      live.push(memory().tensors);
    }
    // the forward pass makes hundreds of intermediates; none may outlive the call
    expect(live[2]).toBe(live[0]);
    expect(live[0]).toBe(vlm.parameters().length);
  });

  it("equals the sum of per-token log-softmax computed the slow way", async () => {
    const batch = [
      { image: tinyPng(255, 0, 0), prompt: "How many circles are there?", completion: "\\boxed{1}" },
      {
        prompt: "Is there a green triangle?",
        completion: "<description>Two green triangles.</description>\\boxed{yes}",
      },
    ];
    const got = await vlm.sequenceLogProbs(batch);
    const sums = Array.from(await got.sum.data());
    const means = Array.from(await got.mean.data());
    for (let i = 0; i < batch.length; i++) {
      const r = batch[i];
      const pixels = r.image ? await vlm.pixelsOf(r.image) : undefined;
      const seq = { ...vlm.encodeCompletion(r.prompt, r.completion, !!pixels), pixels };
      const col = vlm.collate([seq]);
      const logits = await noGrad(() => tidy(() => vlm.logits(vlm.forward(col.inputs)))).data();
      const V = vlm.config.text_config.vocab_size;
      let slow = 0;
      let n = 0;
      for (let t = 0; t < col.inputs.length; t++) {
        const label = col.labels[t];
        if (label === IGNORE_INDEX) continue;
        const row = Array.from(logits.subarray(t * V, (t + 1) * V));
        const max = Math.max(...row);
        const lse = max + Math.log(row.reduce((a, x) => a + Math.exp(x - max), 0));
        slow += row[label] - lse;
        n++;
      }
      expect(sums[i]).toBeCloseTo(slow, 4);
      expect(means[i]).toBeCloseTo(slow / n, 5);
      expect(got.tokens[i]).toBe(n);
    }
    got.sum.dispose();
    got.mean.dispose();
  });

  it("is differentiable", async () => {
    const got = await vlm.sequenceLogProbs([
      { prompt: "Is there a green triangle?", completion: "\\boxed{yes}" },
    ]);
    got.sum.sum().backward();
    const g = vlm.language_model.model.embed_tokens.weight.grad;
    expect(g).not.toBeNull();
    expect(Math.max(...Array.from(await (g as ReturnType<typeof tensor>).abs().data()))).toBeGreaterThan(0);
    for (const p of vlm.parameters()) {
      p.grad?.dispose();
      p.grad = null;
    }
  });
});

describe("prompts", () => {
  it("reads a ChatML prompt string with Qwen-VL's image marker (IPR pairs) as the rendered chat", () => {
    const messages = [{ role: "user" as const, content: "How many circles are there?" }];
    const ipr =
      "<|im_start|>user\n<|vision_start|><|image_pad|><|vision_end|>How many circles are there?<|im_end|>\n<|im_start|>assistant\n";
    expect(vlm.promptIds(ipr, true)).toEqual(vlm.promptIds(messages, true));
    expect(vlm.promptIds("How many circles are there?", false)).toEqual(vlm.promptIds(messages, false));
  });
});
