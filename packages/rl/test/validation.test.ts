import { describe, expect, it } from "vitest";
import { actorLoss, computeKl, computePolicyLoss, grpoOutcomeAdvantage, maskedMean } from "../src/index.js";

const lp = [
  [-1, -2, -3],
  [-0.5, -1, -2],
];
const mask = [
  [1, 1, 0],
  [1, 1, 1],
];
const adv = [
  [1, 1, 1],
  [-1, -1, -1],
];

describe("bad input gets an error naming the argument, row and column", () => {
  it("a ragged row names the row and both widths", () => {
    expect(() =>
      computePolicyLoss(
        lp,
        [
          [-1, -2, -3],
          [-1, -2],
        ],
        adv,
        mask,
      ),
    ).toThrow("computePolicyLoss: logProbs row 1 has 2 columns but row 0 of logProbs has 3");
  });

  it("a second matrix of another width names it and the first", () => {
    expect(() =>
      computePolicyLoss(
        [
          [-1, -2],
          [-1, -2],
        ],
        lp,
        adv,
        mask,
      ),
    ).toThrow("computePolicyLoss: oldLogProbs row 0 has 2 columns but logProbs has 3");
  });

  it("a row count mismatch names both arguments", () => {
    expect(() => computePolicyLoss(lp, lp, [adv[0]], mask)).toThrow(
      "computePolicyLoss: advantages has 1 rows but logProbs has 2",
    );
  });

  it("a mask value other than 0 or 1 names its row and column", () => {
    expect(() =>
      computePolicyLoss(lp, lp, adv, [
        [1, 1, 0],
        [1, 0.5, 1],
      ]),
    ).toThrow("computePolicyLoss: responseMask[1][1] is 0.5, not 0 or 1");
    expect(() =>
      grpoOutcomeAdvantage(
        lp,
        [
          [1, 1, 0],
          [1, 1, true as never],
        ],
        ["a", "a"],
      ),
    ).toThrow("grpoOutcomeAdvantage: responseMask[1][2] is true, not a number");
  });

  it("a value that is not a number names its row and column; NaN and Infinity are let through", () => {
    expect(() => computeKl([[-1, "-2" as never]], [[-1, -2]], "kl")).toThrow(
      'computeKl: logProbs[0][1] is "-2", not a number',
    );
    expect(computeKl([[Number.NaN, -Infinity]], [[-1, -2]], "kl")[0].map(String)).toEqual([
      "NaN",
      "-Infinity",
    ]);
  });

  it("a row that is not an array names the row", () => {
    expect(() => maskedMean([[1], null as never], [[1], [1]])).toThrow("maskedMean: values row 1 is null");
  });

  it("index: its length and each id's type", () => {
    expect(() => grpoOutcomeAdvantage(lp, mask, ["a"])).toThrow(
      "grpoOutcomeAdvantage: index has 1 ids but tokenLevelRewards has 2 rows",
    );
    expect(() => grpoOutcomeAdvantage(lp, mask, ["a", 7 as never])).toThrow(
      "grpoOutcomeAdvantage: index[1] is 7, not a string group id",
    );
  });

  it("a group of one is an error naming the group and its row (verl asserts rollout.n > 1)", () => {
    expect(() => grpoOutcomeAdvantage([[1], [0], [2]], [[1], [1], [1]], ["p", "q", "p"])).toThrow(
      'grpoOutcomeAdvantage: group "q" has 1 response (row 1)',
    );
  });

  it("options: dtype, penalty, clip ratios, klCoef, gradientAccumulation", () => {
    expect(() => computeKl(lp, lp, "kl", { dtype: "float16" as never })).toThrow(
      'computeKl: options.dtype is "float16", not "float32" or "float64"',
    );
    expect(() => computeKl(lp, lp, "k3" as never)).toThrow(
      'computeKl: penalty is "k3", not one of kl, abs, mse, low_var_kl, full',
    );
    expect(() => computePolicyLoss(lp, lp, adv, mask, { clipRatioLow: 1.5 })).toThrow(
      "computePolicyLoss: options.clipRatioLow is 1.5, not a number in [0, 1]",
    );
    expect(() => computePolicyLoss(lp, lp, adv, mask, { clipRatioDual: Number.NaN })).toThrow(
      "computePolicyLoss: options.clipRatioDual is NaN",
    );
    const batch = { oldLogProbs: lp, logProbs: lp, refLogProbs: lp, advantages: adv, responseMask: mask };
    expect(() => actorLoss(batch, { klCoef: -1 })).toThrow("actorLoss: options.klCoef is -1");
    expect(() => actorLoss(batch, { gradientAccumulation: 2.5 })).toThrow(
      "actorLoss: options.gradientAccumulation is 2.5, not a whole number ≥ 1",
    );
    expect(() => actorLoss(batch, { klPenalty: "full" as never })).toThrow(/one value a row/);
    expect(() => actorLoss({ ...batch, refLogProbs: [lp[0]] })).toThrow(
      "actorLoss: refLogProbs has 1 rows but logProbs has 2",
    );
  });
});

describe("shapes the original allows", () => {
  it("an empty micro-batch gives zero means and an empty gradient", () => {
    const out = computePolicyLoss([], [], [], []);
    expect(out).toEqual({ pgLoss: 0, pgClipfracHigher: 0, pgClipfracLower: 0, ppoKl: 0, grad: [] });
  });

  it("typed-array rows are accepted", () => {
    const rows = lp.map((r) => Float64Array.from(r));
    expect(computeKl(rows, lp, "kl", { dtype: "float64" })).toEqual([
      [0, 0, 0],
      [0, 0, 0],
    ]);
  });
});
