// Training curves from the metrics logs (logs/<stage>.jsonl, a row per optimizer step).
import { MetricsLog } from "@sr2se/core";
import { gridSvg, lineChartSvg } from "./line-chart.js";
import type { ReportWriter } from "./writer.js";

/** A training run's metrics log and the name its curve carries. */
export interface TrainingLog {
  name: string;
  file: string;
}

/**
 * The numeric rows of a metrics log (none when it does not exist): core's reader, so a torn last line (a
 * run killed mid-write) is skipped and a garbled line elsewhere is an error naming file:line.
 */
export async function readMetricsLog(file: string): Promise<Record<string, number>[]> {
  return (await MetricsLog.read(file)) as unknown as Record<string, number>[];
}

/** Adds a figure of `metrics` (one panel each) over the logs' steps; logs without the metric are left out. */
export async function trainingSection(
  w: ReportWriter,
  name: string,
  title: string,
  logs: readonly TrainingLog[],
  metrics: readonly string[],
): Promise<boolean> {
  const runs = await Promise.all(
    logs.map(async (l) => ({ name: l.name, rows: await readMetricsLog(l.file) })),
  );
  const panels: string[] = [];
  for (const metric of metrics) {
    const series = runs
      .map((run) => ({
        name: run.name,
        points: run.rows
          .filter((row) => typeof row[metric] === "number" && Number.isFinite(row[metric]))
          .map((row, i) => ({
            x: typeof row.step === "number" ? row.step : i + 1,
            y: row[metric] as number,
          })),
      }))
      .filter((s) => s.points.length > 0);
    if (series.length === 0) continue;
    panels.push(
      lineChartSvg({
        title: `${title}: ${metric}`,
        subtitle: "faint: every step; bold: smoothed (EMA 0.8)",
        xLabel: "optimizer step",
        yLabel: metric,
        series,
        smooth: 0.8,
        width: 620,
        height: 380,
      }),
    );
  }
  if (panels.length === 0) return false;
  await w.figure(name, gridSvg(panels, 2), `${title} training curves`);
  return true;
}
