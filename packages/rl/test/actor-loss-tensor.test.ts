import { memory, noGrad, tensor } from "@sr2se/tensor";
import { useFastestBackend, VLM } from "@sr2se/vlm";
import { beforeAll, describe, expect, it } from "vitest";
import { actorLoss } from "../src/index.js";
import { actorLossTensor, rowsOf } from "../src/tensor.js";
import { tinyRun } from "./tiny.js";

// Log-ratios inside, on and beyond the clip range, both signs of advantage, a masked tail.
const oldLogProbs = [
  [-1.2, -0.4, -2.0, -0.7],
  [-0.9, -1.5, -0.3, -2.4],
  [-0.2, -2.2, -1.0, -0.5],
];
const logProbs = [
  [-1.1, -0.1, -2.6, -0.7],
  [-0.6, -1.5, -1.4, -2.0],
  [-0.25, -1.7, -1.0, 0],
];
const refLogProbs = [
  [-1.0, -0.5, -2.1, -0.9],
  [-1.0, -1.2, -0.6, -2.0],
  [-0.3, -2.0, -1.1, -0.4],
];
const advantages = [
  [1.2, 1.2, 1.2, 1.2],
  [-0.8, -0.8, -0.8, -0.8],
  [0.4, 0.4, 0.4, 0],
];
const responseMask = [
  [1, 1, 1, 1],
  [1, 1, 1, 1],
  [1, 1, 1, 0],
];

describe("actorLossTensor", () => {
  it("gives the graph actorLoss's gradient, loss and metrics", async () => {
    const lp = tensor(logProbs.flat(), { shape: [3, 4], requiresGrad: true });
    const options = { gradientAccumulation: 2 };
    const got = await actorLossTensor(lp, { oldLogProbs, advantages, responseMask, refLogProbs }, options);
    got.surrogate.backward();
    const want = actorLoss(
      { oldLogProbs, logProbs: await rowsOf(lp), advantages, responseMask, refLogProbs },
      options,
    );
    expect(got.loss).toBe(want.loss);
    expect(got.metrics).toEqual(want.metrics);
    const grad = await rowsOf(lp.grad as NonNullable<typeof lp.grad>);
    grad.forEach((row, b) => {
      row.forEach((g, t) => {
        expect(g).toBe(Math.fround(want.grad[b][t]));
      });
    });
    // the clip acts here, so the gradient is not the plain −A/N everywhere
    expect(want.metrics["actor/pg_clipfrac_higher"]).toBeGreaterThan(0);
    got.surrogate.dispose();
    lp.grad?.dispose();
    lp.dispose();
  });

  it("leaves nothing behind but what backward frees", async () => {
    const lp = tensor(logProbs.flat(), { shape: [3, 4], requiresGrad: true });
    const before = memory().tensors;
    const got = await actorLossTensor(lp, { oldLogProbs, advantages, responseMask });
    got.surrogate.backward();
    got.surrogate.dispose();
    lp.grad?.dispose();
    lp.grad = null;
    expect(memory().tensors).toBe(before);
    lp.dispose();
  });
});

describe("actorLossTensor through a VLM", () => {
  let policy: VLM;
  let seqs: Parameters<VLM["tokenLogProbsOf"]>[0];
  beforeAll(async () => {
    await useFastestBackend();
    const run = await tinyRun();
    policy = await VLM.load(run.ckpt);
    const pixels = await policy.pixelsOf(run.train[0].image as string);
    seqs = [
      {
        ...policy.encodeCompletion(run.train[0].question, "<description>A red circle.</description>", true),
        pixels,
      },
      policy.encodeCompletion(run.train[1].question, "<think>Count: 2.</think>\\boxed{2}", false),
    ];
  }, 120_000);

  it("moves the parameters along the loss's gradient: a step down the surrogate's gradient lowers actorLoss's loss as predicted", async () => {
    const { logProbs: lp0, tokens } = noGrad(() => policy.tokenLogProbsOf(seqs));
    const start = await rowsOf(lp0);
    lp0.dispose();
    const T = Math.max(...tokens);
    const mask = tokens.map((n) => Array.from({ length: T }, (_, t) => (t < n ? 1 : 0)));
    // old log-probs a little off the current ones (ratios inside the clip range), a reference further off
    const targets = {
      oldLogProbs: start.map((row, b) => row.map((v, t) => v + 0.05 * Math.sin(3 * b + t))),
      refLogProbs: start.map((row, b) => row.map((v, t) => v - 0.3 * Math.cos(b + 2 * t))),
      advantages: mask.map((row, b) => row.map((m) => m * (b === 0 ? 1.5 : -0.7))),
      responseMask: mask,
    };
    const options = { klCoef: 0.1 };
    const lossAt = async (): Promise<number> => {
      const { logProbs } = noGrad(() => policy.tokenLogProbsOf(seqs));
      const rows = await rowsOf(logProbs);
      logProbs.dispose();
      return actorLoss({ ...targets, logProbs: rows }, options).loss;
    };
    const { logProbs } = policy.tokenLogProbsOf(seqs);
    const got = await actorLossTensor(logProbs, targets, options);
    got.surrogate.backward();
    got.surrogate.dispose();
    logProbs.dispose();
    const named = policy.namedParameters().filter(([, p]) => p.grad);
    const grads = new Map<string, Float32Array>();
    for (const [name, p] of named)
      grads.set(name, Float32Array.from(await (p.grad as NonNullable<typeof p.grad>).data()));
    const norm = Math.sqrt([...grads.values()].reduce((a, g) => a + g.reduce((s, x) => s + x * x, 0), 0));
    expect(norm).toBeGreaterThan(0);
    const eps = 2e-3;
    const shift = async (sign: number) => {
      const state: Record<string, ReturnType<typeof tensor>> = {};
      for (const [name, p] of policy.namedParameters()) {
        const g = grads.get(name);
        const data = Float32Array.from(await p.data());
        state[name] = tensor(g ? data.map((v, k) => v - (sign * eps * g[k]) / norm) : data, {
          shape: p.shape,
        });
      }
      policy.loadStateDict(state);
      for (const t of Object.values(state)) t.dispose();
    };
    await shift(1);
    const down = await lossAt();
    await shift(-2);
    const up = await lossAt();
    await shift(1);
    // central difference along −g/|g|: (L(θ−εd) − L(θ+εd)) / 2ε ≈ |g|
    const slope = (up - down) / (2 * eps);
    expect(slope).toBeGreaterThan(0.8 * norm);
    expect(slope).toBeLessThan(1.2 * norm);
    for (const [, p] of named) {
      p.grad?.dispose();
      p.grad = null;
    }
  });
});
