import { Rng } from "@sr2se/core";
import { SHAPES_WORLD_VOCABULARY } from "@sr2se/data";
import { describe, expect, it } from "vitest";
import {
  type ComparableResult,
  chairStatistic,
  compareResults,
  compareResultsPooled,
  meanScoreStatistic,
  pairedBootstrap,
  pooledPairedBootstrap,
  popeF1Statistic,
  resultsOf,
  scoreChair,
  scorePope,
  statisticFor,
} from "../src/index.js";

function sumsOf(samples: Record<string, unknown>[], stat: ReturnType<typeof statisticFor>): Float64Array {
  const sums = new Float64Array(stat.width);
  const row = new Float64Array(stat.width);
  for (const s of samples) {
    row.fill(0);
    stat.row(s, row);
    for (let k = 0; k < stat.width; k++) sums[k] = (sums[k] as number) + (row[k] as number);
  }
  return sums;
}

function randomPope(seed: number, n: number) {
  const rng = new Rng(seed);
  const splits = ["random", "popular", "adversarial"];
  const questions = Array.from({ length: n }, (_, i) => ({
    id: String(i),
    split: splits[i % 3] as string,
    label: rng.bool() ? "yes" : "no",
  }));
  const predictions = questions.map((q) => ({
    id: q.id,
    response: rng.bool(0.7) === (q.label === "yes") ? "Yes" : "No",
  }));
  return { questions, predictions };
}

describe("the resampled statistic equals the scorer's headline on the full sample", () => {
  it.each(Array.from({ length: 20 }, (_, i) => i + 1))("POPE seed %i: averaged F1", (seed) => {
    const { questions, predictions } = randomPope(seed, 30 + seed * 7);
    const r = scorePope(questions, predictions, { mode: "robust" });
    const stat = statisticFor(r as unknown as ComparableResult);
    expect(stat.fromSums(sumsOf(r.samples as unknown as Record<string, unknown>[], stat))).toBeCloseTo(
      r.headline.value,
      10,
    );
  });
  it.each(Array.from({ length: 20 }, (_, i) => i + 1))("CHAIR seed %i: CHAIR_i", (seed) => {
    const rng = new Rng(seed);
    const shapes = ["circle", "square", "star", "triangle"];
    const colors = ["red", "blue"];
    const data = Array.from({ length: 15 }, (_, i) => ({
      id: `s${i}`,
      objects: [{ shape: rng.choice(shapes), color: rng.choice(colors) }],
    }));
    const preds = data.map((d) => ({
      id: d.id,
      response: Array.from(
        { length: rng.int(0, 4) },
        () => `a ${rng.choice(colors)} ${rng.choice(shapes)}.`,
      ).join(" "),
    }));
    const r = scoreChair(data, preds, { vocabulary: SHAPES_WORLD_VOCABULARY });
    const stat = chairStatistic();
    expect(stat.fromSums(sumsOf(r.samples as unknown as Record<string, unknown>[], stat))).toBeCloseTo(
      r.headline.value,
      10,
    );
  });
  it.each(Array.from({ length: 12 }, (_, i) => i + 1))("mean score seed %i: 100 × mean", (seed) => {
    const rng = new Rng(seed);
    const samples = Array.from({ length: 40 }, (_, i) => ({ id: String(i), score: rng.float() }));
    const mean = samples.reduce((s, x) => s + x.score, 0) / samples.length;
    const stat = meanScoreStatistic();
    expect(stat.fromSums(sumsOf(samples, stat))).toBeCloseTo(100 * mean, 10);
  });
});

const acc = (id: string, scores: number[]): ComparableResult => ({
  bench: id,
  headline: { metric: "accuracy", value: (100 * scores.reduce((a, b) => a + b, 0)) / scores.length },
  samples: scores.map((score, i) => ({ id: `q${i}`, score })),
});

describe("paired bootstrap", () => {
  it("gives a zero interval for identical results", () => {
    const a = acc("mmmu", [1, 0, 1, 1, 0, 0, 1]);
    const c = compareResults([a], [a], { iterations: 200 });
    expect(c.rows[0]?.improvement).toEqual({ value: 0, low: 0, high: 0 });
    expect(c.rows[0]?.significant).toBe(false);
  });
  it("is reproducible for a seed and changes with it", () => {
    const rng = new Rng(3);
    const base = Array.from({ length: 50 }, (_, i) => ({ id: String(i), score: rng.bool() ? 1 : 0 }));
    const ours = base.map((s) => ({ ...s, score: rng.bool(0.6) ? 1 : 0 }));
    const stat = meanScoreStatistic();
    const a = pairedBootstrap(base, ours, stat, { seed: 1, iterations: 300 });
    const b = pairedBootstrap(base, ours, stat, { seed: 1, iterations: 300 });
    const c = pairedBootstrap(base, ours, stat, { seed: 2, iterations: 300 });
    expect(a).toEqual(b);
    expect(c.improvement.low).not.toBe(a.improvement.low);
  });
  it("calls a gain on every sample significant and a coin flip not", () => {
    const n = 200;
    const strong = compareResults([acc("x", Array(n).fill(0))], [acc("x", Array(n).fill(1))], {
      iterations: 300,
    });
    expect(strong.rows[0]).toMatchObject({ significant: true, pValue: 0 });
    const rng = new Rng(9);
    const flips = Array.from({ length: n }, () => (rng.bool() ? 1 : 0));
    const other = Array.from({ length: n }, () => (rng.bool() ? 1 : 0));
    const noisy = compareResults([acc("x", flips)], [acc("x", other)], { iterations: 500 });
    const row = noisy.rows[0];
    expect(row?.improvement.low).toBeLessThan(row?.improvement.value as number);
    expect(row?.improvement.high).toBeGreaterThan(row?.improvement.value as number);
  });
  it("pairs samples by id, whatever their order", () => {
    const base = acc("x", [1, 0, 1, 0]);
    const ours: ComparableResult = { ...base, samples: [...base.samples].reverse() };
    expect(compareResults([base], [ours], { iterations: 50 }).rows[0]?.improvement.value).toBe(0);
  });
  it("the paired interval is narrower than the unpaired spread when the two agree on most samples", () => {
    const rng = new Rng(5);
    const base = Array.from({ length: 300 }, () => (rng.bool() ? 1 : 0));
    const ours = base.map((s, i) => (i % 10 === 0 ? 1 : s));
    const row = compareResults([acc("x", base)], [acc("x", ours)], { iterations: 500 }).rows[0];
    if (!row) throw new Error("no row");
    expect(row.improvement.high - row.improvement.low).toBeLessThan(row.baseline.high - row.baseline.low);
    expect(row.significant).toBe(true);
  });
  it("counts a lower CHAIR as a gain", () => {
    const mk = (h: number[]): ComparableResult => ({
      bench: "chair",
      headline: { metric: "CHAIR_i", value: 0, lowerIsBetter: true },
      samples: h.map((x, i) => ({ id: String(i), mentions: 2, hallucinated: x })),
    });
    const row = compareResults([mk([1, 1, 1, 1])], [mk([0, 0, 0, 0])], { iterations: 100 }).rows[0];
    expect(row).toMatchObject({ lowerIsBetter: true, significant: true });
    expect(row?.improvement.value).toBe(50);
  });
  it("POPE's statistic averages F1 over splits", () => {
    const stat = popeF1Statistic(["adversarial", "random"]);
    expect(stat.width).toBe(6);
  });
});

describe("compare tables and bad input", () => {
  it("renders Benchmark | Baseline | Ours | Improvement", () => {
    const c = compareResults([acc("mmmu", [0, 1, 0, 1])], [acc("mmmu", [1, 1, 0, 1])], { iterations: 100 });
    expect(c.markdown.split("\n")[0]).toBe("| Benchmark | Baseline | Ours | Improvement (95% CI) |");
    expect(c.markdown).toMatch(/\| mmmu \(accuracy\) \| 50\.0 \[.*\] \| 75\.0 \[.*\] \| \+25\.0 \[/);
  });
  it("names the ids only one result scores", () => {
    const b = acc("x", [1, 0]);
    const o: ComparableResult = {
      ...b,
      samples: [
        { id: "q0", score: 1 },
        { id: "zz", score: 0 },
      ],
    };
    expect(() => compareResults([b], [o])).toThrow(/1 only in the baseline: q1; 1 only in ours: zz/);
  });
  it("refuses to compare an official score with a robust one", () => {
    const b = { ...acc("pope", [1, 0]), mode: "official" };
    const o = { ...acc("pope", [1, 1]), mode: "robust" };
    expect(() => compareResults([b], [o])).toThrow(
      /baseline was scored in official mode and ours in robust mode/,
    );
  });
  it("refuses result sets with no benchmark in common", () => {
    expect(() => compareResults([acc("a", [1])], [acc("b", [1])])).toThrow(/no benchmark in both/);
  });
  it("reads one result, a list, or an object of results", () => {
    const r = acc("a", [1]);
    expect(resultsOf(r, "f")).toHaveLength(1);
    expect(resultsOf([r, acc("b", [0])], "f")).toHaveLength(2);
    expect(resultsOf({ a: r }, "f")).toHaveLength(1);
    expect(() => resultsOf({ bench: "a", samples: [] }, "base.json")).toThrow(
      /base\.json: result for a has no per-sample/,
    );
    expect(() => resultsOf(42, "base.json")).toThrow(/base\.json: no benchmark results/);
  });
});

describe("POPE rows name their split", () => {
  const pope = (seed: number, split: string) => {
    const rng = new Rng(seed);
    const questions = Array.from({ length: 60 }, (_, i) => ({
      id: `${split}-${i}`,
      split,
      label: i % 2 === 0 ? "yes" : "no",
    }));
    const predictions = questions.map((q) => ({ id: q.id, response: rng.bool(0.7) ? q.label : "yes" }));
    return scorePope(questions, predictions) as unknown as ComparableResult;
  };
  it("a set of one POPE result a split pairs each with its own split", () => {
    const base = ["random", "popular", "adversarial"].map((s, i) => pope(i, s));
    const ours = ["random", "popular", "adversarial"].map((s, i) => pope(i + 10, s));
    const c = compareResults(base, ours, { iterations: 50 });
    expect(c.rows.map((r) => r.benchmark)).toEqual(["pope random", "pope popular", "pope adversarial"]);
    expect(c.markdown).toContain("| pope adversarial (F1) |");
    for (const [i, r] of c.rows.entries())
      expect(r.baseline.value).toBeCloseTo(base[i]?.headline?.value as number, 10);
  });
  it("adds the false-positive rate, lower is better, when asked", () => {
    const base = pope(1, "adversarial");
    const ours = pope(2, "adversarial");
    const c = compareResults([base], [ours], { iterations: 50, popeFalsePositiveRate: true });
    expect(c.rows.map((r) => `${r.benchmark} ${r.metric}`)).toEqual([
      "pope adversarial F1",
      "pope adversarial FPR",
    ]);
    const fpr = (r: ComparableResult) =>
      100 *
      (r as unknown as { splits: Record<string, { falsePositiveRate: number }> }).splits.adversarial
        .falsePositiveRate;
    expect(c.rows[1]).toMatchObject({ lowerIsBetter: true });
    expect(c.rows[1]?.baseline.value).toBeCloseTo(fpr(base), 10);
    expect(c.rows[1]?.improvement.value).toBeCloseTo(fpr(base) - fpr(ours), 10);
  });
});

describe("bootstrap pooled over seeds", () => {
  const coin = (seed: number, n: number, p: number) => {
    const rng = new Rng(seed);
    return Array.from({ length: n }, (_, i) => ({ id: `q${i}`, score: rng.bool(p) ? 1 : 0 }));
  };
  it("one group gives the plain paired bootstrap's estimate", () => {
    const base = coin(1, 80, 0.5);
    const ours = coin(2, 80, 0.6);
    const stat = meanScoreStatistic();
    const plain = pairedBootstrap(base, ours, stat, { iterations: 300, seed: 4 });
    const pooled = pooledPairedBootstrap([{ base, ours }], stat, { iterations: 300, seed: 4 });
    expect(pooled).toEqual(plain);
  });
  it("the estimate is the mean of the groups' values", () => {
    const groups = [0, 1, 2].map((g) => ({
      base: coin(g, 50 + 10 * g, 0.5),
      ours: coin(g + 7, 50 + 10 * g, 0.7),
    }));
    const stat = meanScoreStatistic();
    const r = pooledPairedBootstrap(groups, stat, { iterations: 200 });
    const mean = (xs: { score: number }[]) => (100 * xs.reduce((t, x) => t + x.score, 0)) / xs.length;
    const expected = groups.reduce((t, g) => t + mean(g.ours) - mean(g.base), 0) / 3;
    expect(r.improvement.value).toBeCloseTo(expected, 10);
    expect(r.n).toBe(50 + 60 + 70);
  });
  it("pooling three seeds narrows the interval of one", () => {
    const groups = [0, 1, 2].map((g) => ({ base: coin(g, 200, 0.5), ours: coin(g + 7, 200, 0.5) }));
    const stat = meanScoreStatistic();
    const one = pooledPairedBootstrap(groups.slice(0, 1), stat, { iterations: 500 });
    const three = pooledPairedBootstrap(groups, stat, { iterations: 500 });
    const width = (r: typeof one) => r.improvement.high - r.improvement.low;
    expect(width(three)).toBeLessThan(width(one) * 0.75);
  });
  it("compareResultsPooled pairs by id within each group and names the groups", () => {
    const mk = (seed: number, p: number): ComparableResult => ({
      bench: "mmmu",
      headline: { metric: "accuracy", value: 0 },
      samples: coin(seed, 40, p),
    });
    const groups = [0, 1].map((g) => ({
      base: [mk(g, 0.3)],
      ours: [{ ...mk(g + 5, 0.9), samples: [...mk(g + 5, 0.9).samples].reverse() }],
    }));
    const c = compareResultsPooled(groups, { iterations: 100 });
    expect(c.rows).toHaveLength(1);
    expect(c.rows[0]?.n).toBe(80);
    expect(c.markdown).toContain("pooled over 2 groups");
    expect(() => compareResultsPooled([])).toThrow(/no groups/);
  });
});
