// VLM.loss with per-token weights (SFT's training.reasoning_loss_weight) and the weights of a response.
import { describe, expect, it } from "vitest";
import { reasoningWeights } from "../src/train/examples.js";
import { tinyPng, tinyVlm } from "./tiny.js";

const vlm = tinyVlm(3);

async function batch() {
  const pixels = await vlm.pixelsOf(tinyPng(255, 0, 0));
  return [
    {
      ...vlm.encodeCompletion(
        "How many circles are there?",
        "<description>A red circle top-left.</description><think>Listed: red circle. Count 1.</think>\\boxed{1}",
        true,
      ),
      pixels,
    },
    vlm.encodeCompletion(
      "Is there a green triangle?",
      "<description>Two green triangles.</description>\\boxed{yes}",
      false,
    ),
  ];
}

describe("VLM.loss with weights", () => {
  it("is the weighted mean of the tokens' cross entropies", async () => {
    const seqs = await batch();
    const { logProbs, tokens } = vlm.tokenLogProbsOf(seqs);
    const T = Math.max(...tokens);
    const lp = await logProbs.data();
    logProbs.dispose();
    const weights = tokens.map((n, b) => Array.from({ length: n }, (_, k) => ((b + k) % 3) + 0.5));
    let num = 0;
    let den = 0;
    for (const [b, ws] of weights.entries())
      for (const [k, w] of ws.entries()) {
        num += -w * (lp[b * T + k] as number);
        den += w;
      }
    const { loss } = vlm.loss(seqs.map((s, b) => ({ ...s, weights: weights[b] })));
    expect(await loss.item()).toBeCloseTo(num / den, 4);
    // all ones: the plain mean
    const plain = vlm.loss(seqs);
    const ones = vlm.loss(seqs.map((s, b) => ({ ...s, weights: weights[b].map(() => 1) })));
    expect(await ones.loss.item()).toBeCloseTo(await plain.loss.item(), 5);
  });

  it("refuses weights that do not match the target tokens", async () => {
    const seqs = await batch();
    expect(() => vlm.loss([{ ...seqs[0], weights: [1, 2] }, seqs[1]])).toThrow(
      /sequence 0 has no valid weight for its target token 2|has 2 weights/,
    );
    expect(() => vlm.loss([{ ...seqs[0], weights: [-1] }, seqs[1]])).toThrow(
      /sequence 0 has no valid weight/,
    );
  });
});

describe("reasoningWeights", () => {
  it("weighs the tokens from the last marker to the end, 1 before it and where there is none", () => {
    const I = -100;
    expect(reasoningWeights([I, I, 5, 6, 7, 8, 9], [7], 3)).toEqual([1, 1, 3, 3, 3]);
    expect(reasoningWeights([I, 7, 8, 7, 8, 9], [7, 8], 2)).toEqual([1, 1, 2, 2, 2]);
    expect(reasoningWeights([I, 5, 6], [7], 3)).toEqual([1, 1]);
  });
});
