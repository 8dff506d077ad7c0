import { EvalInputError, firstIds } from "../predictions/errors.js";
import { type BootstrapOptions, type Interval, pairedBootstrap } from "./bootstrap.js";
import { statisticFor } from "./statistic.js";

/** A scorer's result as `sr2se eval score` writes it: at least `bench`, `headline` and per-sample records with ids. */
export interface ComparableResult {
  bench: string;
  mode?: string;
  headline?: { metric: string; value: number; lowerIsBetter?: boolean };
  samples: ({ id: string } & Record<string, unknown>)[];
}

export interface ComparisonRow {
  benchmark: string;
  metric: string;
  lowerIsBetter: boolean;
  baseline: Interval;
  ours: Interval;
  improvement: Interval;
  pValue: number;
  /** The interval of the improvement excludes zero. */
  significant: boolean;
  n: number;
}

export interface Comparison {
  rows: ComparisonRow[];
  iterations: number;
  seed: number | string;
  confidence: number;
  markdown: string;
}

/** Results of a file's JSON: one result, an array of them, or an object whose values are results. */
export function resultsOf(json: unknown, where: string): ComparableResult[] {
  const list = Array.isArray(json)
    ? json
    : json && typeof json === "object" && "bench" in json
      ? [json]
      : json && typeof json === "object"
        ? Object.values(json)
        : [];
  const out = list.filter(
    (r): r is ComparableResult =>
      !!r && typeof r === "object" && typeof (r as ComparableResult).bench === "string",
  );
  if (out.length === 0)
    throw new EvalInputError(
      "format",
      `${where}: no benchmark results (expected objects with "bench" and "samples")`,
    );
  for (const r of out) {
    if (!Array.isArray(r.samples) || r.samples.length === 0) {
      throw new EvalInputError(
        "format",
        `${where}: result for ${r.bench} has no per-sample "samples" to resample`,
      );
    }
  }
  return out;
}

/** ours' samples reordered to base's ids; throws naming the ids that are in one result only. */
function pair(base: ComparableResult, ours: ComparableResult) {
  const byId = new Map(ours.samples.map((s) => [String(s.id), s]));
  const baseIds = new Set(base.samples.map((s) => String(s.id)));
  const onlyBase = [...baseIds].filter((id) => !byId.has(id));
  const onlyOurs = [...byId.keys()].filter((id) => !baseIds.has(id));
  if (onlyBase.length > 0 || onlyOurs.length > 0) {
    const parts = [];
    if (onlyBase.length > 0) parts.push(`${onlyBase.length} only in the baseline: ${firstIds(onlyBase)}`);
    if (onlyOurs.length > 0) parts.push(`${onlyOurs.length} only in ours: ${firstIds(onlyOurs)}`);
    throw new EvalInputError(
      "missing",
      `compare ${base.bench}: the two results score different samples (${parts.join("; ")})`,
      [...onlyBase, ...onlyOurs],
    );
  }
  return base.samples.map((s) => byId.get(String(s.id)) as Record<string, unknown>);
}

const f = (x: number) => x.toFixed(1);
const signed = (x: number) => `${x >= 0 ? "+" : "−"}${Math.abs(x).toFixed(1)}`;

/**
 * The paper-style table Benchmark | Baseline | Ours | Improvement for the benchmarks both sets score, each
 * with a 95% interval from a seeded paired bootstrap over samples (Markdown and rows for JSON).
 */
export function compareResults(
  base: readonly ComparableResult[],
  ours: readonly ComparableResult[],
  options: BootstrapOptions = {},
): Comparison {
  const rows: ComparisonRow[] = [];
  const oursBy = new Map(ours.map((r) => [r.bench, r]));
  for (const b of base) {
    const o = oursBy.get(b.bench);
    if (!o) continue;
    if (b.mode !== undefined && o.mode !== undefined && b.mode !== o.mode) {
      throw new EvalInputError(
        "format",
        `compare ${b.bench}: the baseline was scored in ${b.mode} mode and ours in ${o.mode} mode; score both the same way`,
      );
    }
    const stat = statisticFor(b);
    const lowerIsBetter = b.headline?.lowerIsBetter ?? stat.lowerIsBetter;
    const boot = pairedBootstrap(b.samples, pair(b, o), stat, options);
    rows.push({
      benchmark: b.bench,
      metric: stat.metric,
      lowerIsBetter,
      baseline: boot.baseline,
      ours: boot.ours,
      improvement: boot.improvement,
      pValue: boot.pValue,
      significant: boot.improvement.low > 0 || boot.improvement.high < 0,
      n: boot.n,
    });
  }
  if (rows.length === 0) {
    throw new EvalInputError(
      "missing",
      `compare: no benchmark in both result sets (baseline: ${base.map((r) => r.bench).join(", ")}; ours: ${ours.map((r) => r.bench).join(", ")})`,
    );
  }
  const confidence = options.confidence ?? 0.95;
  const pct = Math.round(confidence * 100);
  const lines = [
    `| Benchmark | Baseline | Ours | Improvement (${pct}% CI) |`,
    "| --- | ---: | ---: | ---: |",
    ...rows.map((r) => {
      const name = `${r.benchmark} (${r.metric}${r.lowerIsBetter ? ", lower is better" : ""})`;
      const imp = `${signed(r.improvement.value)} [${signed(r.improvement.low)}, ${signed(r.improvement.high)}]${r.significant ? " *" : ""}`;
      return `| ${name} | ${f(r.baseline.value)} [${f(r.baseline.low)}, ${f(r.baseline.high)}] | ${f(r.ours.value)} [${f(r.ours.low)}, ${f(r.ours.high)}] | ${imp} |`;
    }),
    "",
    `Paired bootstrap over samples, ${options.iterations ?? 2000} resamples, seed ${options.seed ?? 0}; * the interval excludes 0.`,
  ];
  return {
    rows,
    iterations: options.iterations ?? 2000,
    seed: options.seed ?? 0,
    confidence,
    markdown: lines.join("\n"),
  };
}
