import { EvalInputError, firstIds } from "../predictions/errors.js";
import {
  type BootstrapOptions,
  type Interval,
  type PairedBootstrapResult,
  pairedBootstrap,
  pooledPairedBootstrap,
} from "./bootstrap.js";
import { popeFalsePositiveStatistic, statisticFor } from "./statistic.js";

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
      `compare ${resultName(base)}: the two results score different samples (${parts.join("; ")})`,
      [...onlyBase, ...onlyOurs],
    );
  }
  return base.samples.map((s) => byId.get(String(s.id)) as Record<string, unknown>);
}

/** The POPE splits a result scores, in its samples' order of first appearance. */
function popeSplitsOf(r: ComparableResult): string[] {
  return [...new Set(r.samples.flatMap((s) => (s.split === undefined ? [] : [String(s.split)])))];
}

/** A result's name in tables and its key when pairing: the bench, and for POPE the splits it scores ("pope adversarial"). */
export function resultName(r: ComparableResult): string {
  const splits = r.bench === "pope" ? popeSplitsOf(r) : [];
  return splits.length > 0 ? `pope ${splits.join("+")}` : r.bench;
}

/** Options of `compareResults` and `compareResultsPooled`. */
export interface CompareOptions extends BootstrapOptions {
  /** Also compare POPE's false-positive rate (FP / (FP + TN), lower is better), a row after each POPE row. */
  popeFalsePositiveRate?: boolean;
}

const f = (x: number) => x.toFixed(1);
const signed = (x: number) => `${x >= 0 ? "+" : "−"}${Math.abs(x).toFixed(1)}`;

/** Base and ours results paired by name, the modes checked; ours' results without a baseline are left out. */
function matched(base: readonly ComparableResult[], ours: readonly ComparableResult[]) {
  const oursBy = new Map(ours.map((r) => [resultName(r), r]));
  const out: { name: string; b: ComparableResult; o: ComparableResult }[] = [];
  for (const b of base) {
    const name = resultName(b);
    const o = oursBy.get(name);
    if (!o) continue;
    if (b.mode !== undefined && o.mode !== undefined && b.mode !== o.mode) {
      throw new EvalInputError(
        "format",
        `compare ${name}: the baseline was scored in ${b.mode} mode and ours in ${o.mode} mode; score both the same way`,
      );
    }
    out.push({ name, b, o });
  }
  return out;
}

/** The statistics compared for a result: its headline, and POPE's false-positive rate when asked. */
function statisticsOf(b: ComparableResult, options: CompareOptions) {
  const stat = statisticFor(b);
  const list = [{ stat, lowerIsBetter: b.headline?.lowerIsBetter ?? stat.lowerIsBetter }];
  if (b.bench === "pope" && options.popeFalsePositiveRate)
    list.push({ stat: popeFalsePositiveStatistic(popeSplitsOf(b)), lowerIsBetter: true });
  return list;
}

function rowOf(
  name: string,
  metric: string,
  lowerIsBetter: boolean,
  boot: PairedBootstrapResult,
): ComparisonRow {
  return {
    benchmark: name,
    metric,
    lowerIsBetter,
    baseline: boot.baseline,
    ours: boot.ours,
    improvement: boot.improvement,
    pValue: boot.pValue,
    significant: boot.improvement.low > 0 || boot.improvement.high < 0,
    n: boot.n,
  };
}

function tableOf(rows: ComparisonRow[], options: CompareOptions, note: string): Comparison {
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
    `${note}, ${options.iterations ?? 2000} resamples, seed ${options.seed ?? 0}; * the interval excludes 0.`,
  ];
  return {
    rows,
    iterations: options.iterations ?? 2000,
    seed: options.seed ?? 0,
    confidence,
    markdown: lines.join("\n"),
  };
}

function noneInCommon(base: readonly ComparableResult[], ours: readonly ComparableResult[]): EvalInputError {
  return new EvalInputError(
    "missing",
    `compare: no benchmark in both result sets (baseline: ${base.map(resultName).join(", ")}; ours: ${ours.map(resultName).join(", ")})`,
  );
}

/**
 * The paper-style table Benchmark | Baseline | Ours | Improvement for the benchmarks both sets score, each
 * with a 95% interval from a seeded paired bootstrap over samples (Markdown and rows for JSON). POPE results
 * pair by their splits, so a set may hold one POPE result a split.
 */
export function compareResults(
  base: readonly ComparableResult[],
  ours: readonly ComparableResult[],
  options: CompareOptions = {},
): Comparison {
  const rows: ComparisonRow[] = [];
  for (const { name, b, o } of matched(base, ours)) {
    const paired = pair(b, o);
    for (const { stat, lowerIsBetter } of statisticsOf(b, options))
      rows.push(rowOf(name, stat.metric, lowerIsBetter, pairedBootstrap(b.samples, paired, stat, options)));
  }
  if (rows.length === 0) throw noneInCommon(base, ours);
  return tableOf(rows, options, "Paired bootstrap over samples");
}

/**
 * `compareResults` pooled over groups (seeds): within a group, baseline and ours pair by sample id; each
 * benchmark's estimate is the mean over groups, its interval from `pooledPairedBootstrap`. Every group must
 * score the benchmark for it to get a row.
 */
export function compareResultsPooled(
  groups: readonly { base: readonly ComparableResult[]; ours: readonly ComparableResult[] }[],
  options: CompareOptions = {},
): Comparison {
  if (groups.length === 0) throw new EvalInputError("empty", "compare: no groups to pool");
  const perGroup = groups.map((g) => new Map(matched(g.base, g.ours).map((m) => [m.name, m])));
  const rows: ComparisonRow[] = [];
  for (const [name, first] of perGroup[0] as Map<string, { b: ComparableResult }>) {
    const all = perGroup.map((m) => m.get(name));
    if (all.some((m) => m === undefined)) continue;
    const present = all as { b: ComparableResult; o: ComparableResult }[];
    const paired = present.map(({ b, o }) => ({ base: b.samples, ours: pair(b, o) }));
    for (const { stat, lowerIsBetter } of statisticsOf(first.b, options))
      rows.push(rowOf(name, stat.metric, lowerIsBetter, pooledPairedBootstrap(paired, stat, options)));
  }
  if (rows.length === 0) throw noneInCommon(groups[0]?.base ?? [], groups[0]?.ours ?? []);
  return tableOf(
    rows,
    options,
    `Paired bootstrap pooled over ${groups.length} groups (mean of each group's value; samples redrawn within each group)`,
  );
}
