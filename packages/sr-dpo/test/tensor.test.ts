import { readFileSync } from "node:fs";
import { tensor } from "@sr2se/tensor";
import { describe, expect, it } from "vitest";
import { dpoLoss } from "../src/index.js";
import { dpoLossTensor, sequenceLogProbs } from "../src/tensor.js";

interface SeqCase {
  logits: number[];
  shape: [number, number, number];
  labels: number[];
  mask: number[];
  u: number[];
  w: number[];
  sum: number[];
  mean: number[];
  tokens: number[];
  gradLogits: number[];
}

const seqCases = (
  JSON.parse(readFileSync(new URL("./fixtures/sequence-logprobs.json", import.meta.url), "utf8")) as {
    cases: SeqCase[];
  }
).cases;

function expectClose(actual: ArrayLike<number>, expected: number[], tol: number, what: string): void {
  expect(actual.length, what).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (!(Math.abs(actual[i] - expected[i]) <= tol * Math.max(1, Math.abs(expected[i])))) {
      throw new Error(`${what}[${i}]: got ${actual[i]}, PyTorch gives ${expected[i]}`);
    }
  }
}

describe("sequenceLogProbs against PyTorch (gather of log_softmax over the completion mask)", () => {
  it.each(seqCases.map((c, i) => [i, c] as const))(
    "case %i: sums, means, token counts and the logits gradient",
    async (_i, c) => {
      const [b, t, v] = c.shape;
      const leaf = tensor(Float64Array.from(c.logits), { dtype: "float64", requiresGrad: true });
      const logits = leaf.reshape([b, t, v]);
      const labels = tensor(Int32Array.from(c.labels), { dtype: "int32" }).reshape([b, t]);
      const mask = tensor(Uint8Array.from(c.mask), { dtype: "bool" }).reshape([b, t]);
      const out = sequenceLogProbs(logits, labels, mask);
      expectClose(await out.sum.data(), c.sum, 1e-12, "sum");
      expectClose(await out.mean.data(), c.mean, 1e-12, "mean");
      expectClose(await out.tokens.data(), c.tokens, 0, "tokens");
      const u = tensor(Float64Array.from(c.u), { dtype: "float64" });
      const w = tensor(Float64Array.from(c.w), { dtype: "float64" });
      out.sum.mul(u).sum().add(out.mean.mul(w).sum()).backward();
      expect(leaf.grad).not.toBeNull();
      expectClose(
        await (leaf.grad as NonNullable<typeof leaf.grad>).data(),
        c.gradLogits,
        1e-12,
        "grad logits",
      );
    },
  );

  it("refuses labels that are not int32 and masks of another shape", () => {
    const logits = tensor(new Float32Array(2 * 3 * 4)).reshape([2, 3, 4]);
    expect(() =>
      sequenceLogProbs(
        logits,
        tensor(new Float32Array(6)).reshape([2, 3]),
        tensor(new Float32Array(6)).reshape([2, 3]),
      ),
    ).toThrow("sequenceLogProbs: labels must be int32, got float32");
    expect(() =>
      sequenceLogProbs(
        logits,
        tensor(new Int32Array(6), { dtype: "int32" }).reshape([2, 3]),
        tensor(new Float32Array(4)).reshape([2, 2]),
      ),
    ).toThrow("sequenceLogProbs: mask must be [2, 3] like logits [2, 3, 4], got [2, 2]");
  });
});

describe("dpoLossTensor", () => {
  const batch = {
    policyChosen: [-12.1, -30.4, -7.5],
    policyRejected: [-14.0, -29.8, -9.25],
    referenceChosen: [-12.5, -31.0, -8.0],
    referenceRejected: [-13.2, -29.5, -9.0],
    chosenLengths: [4, 9, 3],
    rejectedLengths: [5, 8, 3],
    weights: [1, 0.5, 2],
  };
  const options = {
    beta: 0.2,
    lossType: ["sigmoid", "apo_zero"] as const,
    lossWeights: [1, 0.5],
    alpha: 0.3,
  };

  it("has the value of dpoLoss and sends its closed-form gradient into the policy log-probs", async () => {
    const pc = tensor(Float64Array.from(batch.policyChosen), { dtype: "float64", requiresGrad: true });
    const pr = tensor(Float64Array.from(batch.policyRejected), { dtype: "float64", requiresGrad: true });
    const { loss, result } = await dpoLossTensor(
      {
        ...batch,
        policyChosen: pc,
        policyRejected: pr,
        referenceChosen: tensor(Float64Array.from(batch.referenceChosen), { dtype: "float64" }),
      },
      { ...options, lossType: [...options.lossType] },
    );
    const expected = dpoLoss(batch, { ...options, lossType: [...options.lossType] });
    expect(await loss.item()).toBeCloseTo(expected.loss, 12);
    expect(result.metrics).toEqual(expected.metrics);
    loss.backward();
    expectClose(
      await (pc.grad as NonNullable<typeof pc.grad>).data(),
      Array.from(expected.grad.policyChosen),
      1e-12,
      "grad chosen",
    );
    expectClose(
      await (pr.grad as NonNullable<typeof pr.grad>).data(),
      Array.from(expected.grad.policyRejected),
      1e-12,
      "grad rejected",
    );
  });

  it("refuses policy log-probs that are not 1-D", async () => {
    const two = tensor(new Float32Array(4)).reshape([2, 2]);
    await expect(
      dpoLossTensor({ policyChosen: two, policyRejected: two }, { referenceFree: true }),
    ).rejects.toThrow("dpoLossTensor: batch.policyChosen must be 1-D [B], got [2, 2]");
  });
});
