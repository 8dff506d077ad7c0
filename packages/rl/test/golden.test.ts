import { describe, expect, it } from "vitest";
import {
  type ActorBatch,
  type ActorLossOptions,
  actorLoss,
  computeKl,
  computePolicyLoss,
  type Dtype,
  grpoOutcomeAdvantage,
  type KlPenalty,
  type PolicyLossOptions,
} from "../src/index.js";
import { expectAllClose, expectClose, readFixture } from "./golden.js";

// Tolerances, in ulps of the dtype at max(|value|, 1). torch sums a tensor in an order set by the
// CPU's vector width, and its exp/log come from SLEEF or glibc where ours come from V8: elementwise
// results and gradients land within 2 ulps, one-pass means within 4. GRPO divides a difference of
// sums by a standard deviation, which can double the sums' error: 8.
const ELEMENTWISE = 2;
const MEAN = 4;
const GRPO = 8;

interface GrpoCase {
  name: string;
  dtype: Dtype;
  tokenLevelRewards: number[][];
  responseMask: number[][];
  index: string[];
  options: { eps?: number };
  expected?: number[][];
  error?: string;
}
interface KlCase {
  penalty: KlPenalty;
  dtype: Dtype;
  logProbs: number[][];
  refLogProbs: number[][];
  expected: number[][] | number[];
}
interface PolicyCase {
  name: string;
  dtype: Dtype;
  oldLogProbs: number[][];
  logProbs: number[][];
  advantages: number[][];
  responseMask: number[][];
  options: PolicyLossOptions;
  expected: {
    pgLoss: number;
    pgClipfracHigher: number;
    pgClipfracLower: number;
    ppoKl: number;
    grad: number[][];
  };
}
interface ActorCase {
  name: string;
  dtype: Dtype;
  batch: ActorBatch;
  options: ActorLossOptions;
  expected: { loss: number; grad: number[][]; metrics: Record<string, number> };
}

const grpo = readFixture<GrpoCase>("verl-grpo.json");
const kl = readFixture<KlCase>("verl-kl.json");
const policy = readFixture<PolicyCase>("verl-policy.json");
const actor = readFixture<ActorCase>("verl-actor.json");
const label = (c: { name: string; dtype: string }) => `${c.name} (${c.dtype})`;

describe("grpoOutcomeAdvantage matches verl's compute_grpo_outcome_advantage", () => {
  it.each(grpo.cases.filter((c) => c.expected).map((c) => [label(c), c] as const))("%s", (_, c) => {
    const out = grpoOutcomeAdvantage(c.tokenLevelRewards, c.responseMask, c.index, {
      ...c.options,
      dtype: c.dtype,
    });
    expectAllClose(out, c.expected as number[][], c.dtype, GRPO, "advantages");
  });

  it.each(grpo.cases.filter((c) => c.error).map((c) => [label(c), c] as const))(
    "%s, where verl raises an AssertionError",
    (_, c) => {
      expect(c.error).toBe("AssertionError: GRPO needs rollout.n > 1.");
      expect(() =>
        grpoOutcomeAdvantage(c.tokenLevelRewards, c.responseMask, c.index, { dtype: c.dtype }),
      ).toThrow(/group "lone" has 1 response \(row 1\)/);
    },
  );
});

describe("computeKl matches verl's compute_kl", () => {
  it("covers every kl_penalty in both dtypes", () => {
    const seen = new Set(kl.cases.map((c) => `${c.penalty}/${c.dtype}`));
    for (const p of ["kl", "abs", "mse", "low_var_kl", "full"]) {
      for (const d of ["float32", "float64"]) expect(seen.has(`${p}/${d}`), `${p}/${d}`).toBe(true);
    }
  });

  it.each(kl.cases.map((c) => [`${c.penalty} (${c.dtype})`, c] as const))("%s", (_, c) => {
    const out = computeKl(c.logProbs, c.refLogProbs, c.penalty, { dtype: c.dtype });
    if (c.penalty === "full") {
      const rows = c.expected as number[];
      expect(out).toHaveLength(rows.length);
      for (const [i, e] of rows.entries())
        expectClose((out as number[])[i], e, c.dtype, MEAN, `full[${i}]`, 1);
    } else {
      expectAllClose(out as number[][], c.expected as number[][], c.dtype, ELEMENTWISE, c.penalty);
    }
  });
});

describe("computePolicyLoss matches verl's compute_policy_loss, gradient from torch autograd", () => {
  it.each(policy.cases.map((c) => [label(c), c] as const))("%s", (_, c) => {
    const out = computePolicyLoss(c.oldLogProbs, c.logProbs, c.advantages, c.responseMask, {
      ...c.options,
      dtype: c.dtype,
    });
    for (const key of ["pgLoss", "pgClipfracHigher", "pgClipfracLower", "ppoKl"] as const) {
      // The clip fractions are float32 in verl whatever the dtype (`.float()` of a comparison).
      const dtype = key.startsWith("pgClipfrac") ? "float32" : c.dtype;
      expectClose(out[key], c.expected[key], dtype, MEAN, key, 1);
    }
    expectAllClose(out.grad, c.expected.grad, c.dtype, ELEMENTWISE, "grad");
  });
});

describe("actorLoss matches verl's update_policy for one micro-batch, gradient from torch autograd", () => {
  it.each(actor.cases.map((c) => [label(c), c] as const))("%s", (_, c) => {
    const out = actorLoss(c.batch, { ...c.options, dtype: c.dtype });
    expectClose(out.loss, c.expected.loss, c.dtype, MEAN, "loss", 1);
    expectAllClose(out.grad, c.expected.grad, c.dtype, ELEMENTWISE, "grad");
    expect(Object.keys(out.metrics).sort()).toEqual(Object.keys(c.expected.metrics).sort());
    for (const [name, value] of Object.entries(c.expected.metrics)) {
      const dtype = name.startsWith("actor/pg_clipfrac") || name === "actor/kl_coef" ? "float32" : c.dtype;
      expectClose(out.metrics[name as keyof typeof out.metrics] as number, value, dtype, MEAN, name, 1);
    }
  });
});
