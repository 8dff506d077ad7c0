// Training curves from the metrics logs (logs/<stage>.jsonl, a row per optimizer step).
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { gridSvg, lineChartSvg } from "./line-chart.js";
import type { ReportWriter } from "./writer.js";

/** A training run's metrics log and the name its curve carries. */
export interface TrainingLog {
  name: string;
  file: string;
}

/** The numeric rows of a metrics log; a torn last line (a run killed mid-write) is skipped. */
export async function readMetricsLog(file: string): Promise<Record<string, number>[]> {
  if (!existsSync(file)) return [];
  const rows: Record<string, number>[] = [];
  for (const line of (await readFile(file, "utf8")).split("\n")) {
    if (!line.trim()) continue;
    try {
      rows.push(JSON.parse(line) as Record<string, number>);
    } catch {
      // only the last line can be torn; earlier ones were whole when written
    }
  }
  return rows;
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
