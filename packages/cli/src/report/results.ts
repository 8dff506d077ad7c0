// Per-variant results against the baseline: the headline table, the bar charts and the per-round curves.
import type { Comparison, ComparisonRow, Interval } from "@sr2se/eval";
import { type BarChartSpec, barChartSvg } from "./bar-chart.js";
import { gridSvg, lineChartSvg } from "./line-chart.js";
import type { ReportWriter } from "./writer.js";

/** A variant and its comparison against the baseline (one run, or pooled over seeds). */
export interface VariantComparison {
  variant: string;
  comparison: Comparison;
}

/** A row's name in tables and charts: "pope adversarial (F1)". */
export function rowKey(r: Pick<ComparisonRow, "benchmark" | "metric">): string {
  return `${r.benchmark} (${r.metric})`;
}

const f1 = (x: number) => x.toFixed(1);
const signed = (x: number) => `${x >= 0 ? "+" : "−"}${Math.abs(x).toFixed(1)}`;
const ci = (i: Interval) => `${f1(i.value)} [${f1(i.low)}, ${f1(i.high)}]`;

/** Every row key of the comparisons, in first-seen order. */
function keysOf(comparisons: readonly VariantComparison[]): string[] {
  return [...new Set(comparisons.flatMap((c) => c.comparison.rows.map(rowKey)))];
}

/**
 * One Markdown table: a row a benchmark (POPE's split named), the baseline's value with its 95% interval,
 * then each variant's value and its paired improvement over the baseline (* where the interval excludes 0).
 */
export function headlineTable(baseline: string, comparisons: readonly VariantComparison[]): string {
  const keys = keysOf(comparisons);
  const byKey = comparisons.map((c) => new Map(c.comparison.rows.map((r) => [rowKey(r), r])));
  const head = [`| Benchmark | ${baseline} |`, "| --- | ---: |"];
  for (const c of comparisons) {
    head[0] += ` ${c.variant} | Δ vs ${baseline} (95% CI) |`;
    head[1] += " ---: | ---: |";
  }
  const lines = keys.map((k) => {
    const first = byKey.map((m) => m.get(k)).find((r) => r !== undefined) as ComparisonRow;
    let line = `| ${k}${first.lowerIsBetter ? " ↓" : ""} | ${ci(first.baseline)} |`;
    for (const m of byKey) {
      const r = m.get(k);
      line += r
        ? ` ${ci(r.ours)} | ${signed(r.improvement.value)} [${signed(r.improvement.low)}, ${signed(r.improvement.high)}]${r.significant ? " *" : ""} |`
        : " – | – |";
    }
    return line;
  });
  return [...head, ...lines].join("\n");
}

/** Bar-chart series of the baseline and each variant over the rows with `lowerIsBetter` as given. */
function barSpec(
  baseline: string,
  comparisons: readonly VariantComparison[],
  lowerIsBetter: boolean,
): Pick<BarChartSpec, "groups" | "series"> {
  const keys = keysOf(comparisons).filter((k) =>
    comparisons.some((c) =>
      c.comparison.rows.some((r) => rowKey(r) === k && r.lowerIsBetter === lowerIsBetter),
    ),
  );
  const find = (c: VariantComparison, k: string) => c.comparison.rows.find((r) => rowKey(r) === k);
  const base = keys.map((k) => {
    const r = comparisons.map((c) => find(c, k)).find(Boolean);
    return r ? r.baseline : null;
  });
  return {
    groups: keys,
    series: [
      { name: baseline, values: base },
      ...comparisons.map((c) => ({ name: c.variant, values: keys.map((k) => find(c, k)?.ours ?? null) })),
    ],
  };
}

/** Adds the headline table and the two bar charts (benchmarks, hallucination) to the report. */
export async function resultsSection(
  w: ReportWriter,
  baseline: string,
  comparisons: readonly VariantComparison[],
  subtitle: string,
): Promise<void> {
  w.add(headlineTable(baseline, comparisons));
  w.add(
    `↓ lower is better. Δ: the variant minus ${baseline} (for ↓ rows, ${baseline} minus the variant: positive is always a gain), paired bootstrap over the same questions; * the 95% interval excludes 0.`,
  );
  const up = barSpec(baseline, comparisons, false);
  if (up.groups.length)
    await w.figure(
      "benchmarks",
      barChartSvg({ title: "Benchmarks (higher is better)", subtitle, yLabel: "score (%)", ...up }),
      "benchmark scores per variant with 95% intervals",
    );
  const down = barSpec(baseline, comparisons, true);
  if (down.groups.length)
    await w.figure(
      "hallucination",
      barChartSvg({ title: "Hallucination (lower is better)", subtitle, yLabel: "rate (%)", ...down }),
      "hallucination rates per variant with 95% intervals",
    );
}

/** One round's comparison against the baseline (round 0 is the baseline itself). */
export interface RoundPoint {
  round: number;
  comparison: Comparison;
}

/** Adds per-round curves: each benchmark's value after every round, with its 95% interval, round 0 the baseline. */
export async function roundsSection(
  w: ReportWriter,
  name: string,
  title: string,
  rounds: readonly RoundPoint[],
): Promise<void> {
  if (rounds.length === 0) return;
  const keys = [...new Set(rounds.flatMap((p) => p.comparison.rows.map(rowKey)))];
  const panel = (lowerIsBetter: boolean) => {
    const series = keys
      .filter((k) =>
        rounds.some((p) =>
          p.comparison.rows.some((r) => rowKey(r) === k && r.lowerIsBetter === lowerIsBetter),
        ),
      )
      .map((k) => {
        const rows = rounds.map((p) => ({
          round: p.round,
          r: p.comparison.rows.find((r) => rowKey(r) === k),
        }));
        const first = rows.find((x) => x.r)?.r as ComparisonRow;
        return {
          name: k,
          points: [
            { x: 0, y: first.baseline.value, low: first.baseline.low, high: first.baseline.high },
            ...rows.flatMap(({ round, r }) =>
              r ? [{ x: round, y: r.ours.value, low: r.ours.low, high: r.ours.high }] : [],
            ),
          ],
        };
      });
    return series.length
      ? lineChartSvg({
          title: lowerIsBetter ? `${title}: hallucination (lower is better)` : `${title}: benchmarks`,
          subtitle: "round 0: the SFT policy; whiskers: 95% interval",
          xLabel: "self-evolution round",
          yLabel: lowerIsBetter ? "rate (%)" : "score (%)",
          integerX: true,
          series,
          width: 720,
        })
      : null;
  };
  const panels = [panel(false), panel(true)].filter((p): p is string => p !== null);
  await w.figure(name, gridSvg(panels, 2), `${title} per round`);
}
