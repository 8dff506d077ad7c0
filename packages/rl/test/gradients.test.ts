import { describe, expect, it } from "vitest";
import { actorLoss, type TokenKlPenalty } from "../src/index.js";

// A check of the closed-form backward that owes nothing to torch: central differences of the
// float64 loss, at points away from the clip bounds (where the loss has a kink).
function lcg(seed: number) {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

function batchAt(seed: number) {
  const rand = lcg(seed);
  const rows = 4;
  const cols = 6;
  const make = (f: (i: number, j: number) => number) =>
    Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => f(i, j)));
  const oldLogProbs = make(() => -3 * rand() - 0.1);
  const logProbs = make((i, j) => {
    // log-ratios inside (log 0.8, log 1.3) or well outside it, never near a bound.
    const pick = rand();
    const d = pick < 0.6 ? -0.15 + 0.35 * rand() : pick < 0.8 ? -0.8 + 0.4 * rand() : 0.4 + 0.5 * rand();
    return oldLogProbs[i][j] + d;
  });
  const refLogProbs = make((i, j) => logProbs[i][j] + rand() - 0.5);
  const advantage = Array.from({ length: rows }, () => 2 * rand() - 1);
  const advantages = make((i) => advantage[i]);
  const responseMask = make((i, j) => (j < cols - i ? 1 : 0));
  return { oldLogProbs, logProbs, refLogProbs, advantages, responseMask };
}

describe("actorLoss's gradient agrees with finite differences (float64)", () => {
  it.each(["low_var_kl", "kl", "abs", "mse"] as TokenKlPenalty[])("klPenalty %s", (klPenalty) => {
    for (const seed of [1, 2, 3]) {
      const batch = batchAt(seed);
      const options = { dtype: "float64", klPenalty, klCoef: 0.3, gradientAccumulation: 2 } as const;
      const { grad } = actorLoss(batch, options);
      const h = 1e-6;
      for (let i = 0; i < batch.logProbs.length; i++) {
        for (let j = 0; j < batch.logProbs[i].length; j++) {
          const at = (dx: number) => {
            const logProbs = batch.logProbs.map((row) => row.slice());
            logProbs[i][j] += dx;
            return actorLoss({ ...batch, logProbs }, options).loss;
          };
          const numeric = (at(h) - at(-h)) / (2 * h);
          expect(Math.abs(grad[i][j] - numeric), `seed ${seed} [${i}][${j}]`).toBeLessThan(1e-7);
        }
      }
    }
  });
});
