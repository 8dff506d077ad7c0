import { memory, noGrad, tidy } from "@sr2se/tensor";
import { describe, expect, it } from "vitest";
import { IGNORE_INDEX } from "../src/data/encode.js";
import { tinyPng, tinyVlm } from "./tiny.js";

const vlm = tinyVlm(3);

async function batch() {
  const pixels = await vlm.pixelsOf(tinyPng(255, 0, 0));
  return [
    { ...vlm.encodeCompletion("How many circles are there?", "\\boxed{1}", true), pixels },
    vlm.encodeCompletion(
      "Is there a green triangle?",
      "<description>Two green triangles.</description>\\boxed{yes}",
      false,
    ),
  ];
}

/** Returns each labelled token's log-softmax, computed one sequence at a time on the host. */
async function slowLogProbs(
  seq: Awaited<ReturnType<typeof batch>>[number],
  temperature = 1,
): Promise<number[]> {
  const col = vlm.collate([seq]);
  const logits = await noGrad(() => tidy(() => vlm.logits(vlm.forward(col.inputs)))).data();
  const V = vlm.config.text_config.vocab_size;
  const out: number[] = [];
  for (let t = 0; t < col.inputs.length; t++) {
    const label = col.labels[t];
    if (label === IGNORE_INDEX) continue;
    const row = Array.from(logits.subarray(t * V, (t + 1) * V), (x) => x / temperature);
    const max = Math.max(...row);
    out.push(row[label] - max - Math.log(row.reduce((a, x) => a + Math.exp(x - max), 0)));
  }
  return out;
}

describe("tokenLogProbsOf", () => {
  it("returns each labelled token's log-softmax in order, zeros after a sequence's end", async () => {
    const seqs = await batch();
    const { logProbs, tokens } = vlm.tokenLogProbsOf(seqs);
    const T = Math.max(...tokens);
    expect(logProbs.shape).toEqual([2, T]);
    const got = Array.from(await logProbs.data());
    for (let b = 0; b < 2; b++) {
      const slow = await slowLogProbs(seqs[b]);
      expect(tokens[b]).toBe(slow.length);
      slow.forEach((v, t) => {
        expect(got[b * T + t]).toBeCloseTo(v, 4);
      });
      for (let t = slow.length; t < T; t++) expect(got[b * T + t]).toBe(0);
    }
    logProbs.dispose();
  });

  it("sums to sequenceLogProbsOf's sums", async () => {
    const seqs = await batch();
    const { logProbs } = vlm.tokenLogProbsOf(seqs);
    const rows = await logProbs.sum(1).data();
    const { sum, mean } = vlm.sequenceLogProbsOf(seqs);
    const sums = await sum.data();
    for (let b = 0; b < 2; b++) expect(rows[b]).toBeCloseTo(sums[b], 4);
    for (const t of [logProbs, sum, mean]) t.dispose();
  });

  it("divides the logits by the temperature", async () => {
    const seqs = await batch();
    const { logProbs, tokens } = vlm.tokenLogProbsOf(seqs, { temperature: 0.7 });
    const T = Math.max(...tokens);
    const got = Array.from(await logProbs.data());
    const slow = await slowLogProbs(seqs[1], 0.7);
    slow.forEach((v, t) => {
      expect(got[T + t]).toBeCloseTo(v, 4);
    });
    logProbs.dispose();
  });

  it("is differentiable and leaves only its output behind", async () => {
    const seqs = await batch();
    const before = memory().tensors;
    const { logProbs } = vlm.tokenLogProbsOf(seqs);
    const total = logProbs.sum();
    total.backward();
    const g = vlm.language_model.model.embed_tokens.weight.grad;
    expect(g).not.toBeNull();
    expect(Array.from((await g?.data()) ?? []).some((v) => v !== 0)).toBe(true);
    total.dispose();
    logProbs.dispose();
    for (const p of vlm.parameters()) {
      p.grad?.dispose();
      p.grad = null;
    }
    expect(memory().tensors).toBe(before);
  });
});
