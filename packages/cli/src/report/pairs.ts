// Pair statistics of each IPR run (its .stats.json) and the gallery of pairs.
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { type PreferencePair, readRecords, type Sample, type SceneObject } from "@sr2se/core";
import { barChartSvg } from "./bar-chart.js";
import { galleryEntries, gallerySvg } from "./gallery.js";
import { gridSvg, lineChartSvg } from "./line-chart.js";
import type { ReportWriter } from "./writer.js";

/** The parts of IPR's `<pairs>.stats.json` the report shows. */
interface IprStats {
  samples: number;
  pairs: number;
  pairs_per_sample: number | null;
  never_corrected_share: number | null;
  outcomes: Record<string, number>;
  self_reward: { checked: number; passed: number };
  hallucination: {
    winners: { rate: number | null };
    losers: { rate: number | null };
  } | null;
  time?: { seconds: number };
}

/** An IPR run of a self-evolution round: its label, round number and pairs file. */
export interface IprRun {
  label: string;
  round: number;
  pairs: string;
}

/** The statistics file IPR writes next to its pairs (`pairs.jsonl` → `pairs.stats.json`). */
export function statsFileOf(pairs: string): string {
  return path.join(path.dirname(pairs), `${path.basename(pairs, ".jsonl")}.stats.json`);
}

const pct = (x: number | null | undefined) =>
  x === null || x === undefined ? "–" : `${(100 * x).toFixed(1)}%`;

/** Adds the pair-statistics table and figure (pairs, yield, hallucination of winners and losers per round). */
export async function pairStatsSection(w: ReportWriter, runs: readonly IprRun[]): Promise<void> {
  const rows: { run: IprRun; s: IprStats }[] = [];
  for (const run of runs) {
    const file = statsFileOf(run.pairs);
    if (existsSync(file)) rows.push({ run, s: JSON.parse(await readFile(file, "utf8")) as IprStats });
  }
  if (rows.length === 0) {
    w.add("No IPR statistics were found.");
    return;
  }
  w.add(
    [
      "| IPR run | round | refined samples | right at once | corrected | pairs | pairs / sample | never corrected | self-reward passed | CHAIR_i losers | CHAIR_i winners |",
      "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
      ...rows.map(
        ({ run, s }) =>
          `| ${run.label} | ${run.round} | ${s.samples} | ${s.outcomes.round0_correct ?? 0} | ${s.outcomes.corrected ?? 0} | ${s.pairs} | ${s.pairs_per_sample?.toFixed(3) ?? "–"} | ${pct(s.never_corrected_share)} | ${s.self_reward.checked ? `${s.self_reward.passed}/${s.self_reward.checked}` : "off"} | ${pct(s.hallucination?.losers.rate)} | ${pct(s.hallucination?.winners.rate)} |`,
      ),
    ].join("\n"),
  );
  const byRound = new Map<number, { s: IprStats }[]>();
  for (const x of rows) byRound.set(x.run.round, [...(byRound.get(x.run.round) ?? []), x]);
  const rounds = [...byRound.keys()].sort((a, b) => a - b);
  const mean = (xs: (number | null | undefined)[]) => {
    const v = xs.filter((x): x is number => typeof x === "number");
    return v.length ? v.reduce((a, b) => a + b, 0) / v.length : Number.NaN;
  };
  const pairsBars = barChartSvg({
    title: "Preference pairs per round",
    subtitle: rows.length > rounds.length ? "mean over seeds" : undefined,
    yLabel: "pairs",
    groups: rounds.map((r) => `round ${r}`),
    series: [
      {
        name: "pairs",
        values: rounds.map((r) => ({ value: mean((byRound.get(r) ?? []).map((x) => x.s.pairs)) })),
      },
    ],
    width: 560,
    height: 380,
  });
  const rates = lineChartSvg({
    title: "Pair yield and hallucination",
    subtitle: "percent of refined samples / of object mentions",
    xLabel: "self-evolution round",
    yLabel: "percent",
    integerX: true,
    width: 620,
    height: 380,
    series: [
      {
        name: "pairs per refined sample",
        points: rounds.map((r) => ({
          x: r,
          y: 100 * mean((byRound.get(r) ?? []).map((x) => x.s.pairs_per_sample)),
        })),
      },
      {
        name: "CHAIR_i of losers",
        points: rounds.map((r) => ({
          x: r,
          y: 100 * mean((byRound.get(r) ?? []).map((x) => x.s.hallucination?.losers.rate)),
        })),
      },
      {
        name: "CHAIR_i of winners",
        points: rounds.map((r) => ({
          x: r,
          y: 100 * mean((byRound.get(r) ?? []).map((x) => x.s.hallucination?.winners.rate)),
        })),
      },
    ].filter((s) => s.points.some((p) => Number.isFinite(p.y))),
  });
  await w.figure("pairs", gridSvg([pairsBars, rates], 2), "pair statistics per round");
}

/** Adds the gallery of pairs: images from `imagesRoot`, questions and objects from the samples files. */
export async function gallerySection(
  w: ReportWriter,
  pairsFile: string,
  samplesFiles: readonly string[],
  imagesRoot: string,
  count = 6,
): Promise<void> {
  if (!existsSync(pairsFile)) return;
  const pairs = (await readRecords(pairsFile)).records as unknown as PreferencePair[];
  const samples = new Map<string, Sample>();
  for (const f of samplesFiles)
    if (existsSync(f))
      for (const s of (await readRecords(f)).records as unknown as Sample[]) samples.set(s.id, s);
  const entries = galleryEntries(
    pairs,
    (id) => samples.get(id) as { question: string; answer: string; objects?: SceneObject[] } | undefined,
    (image) => path.join(imagesRoot, image),
    count,
  );
  const marked = entries.filter((e) => e.rejectedHallucinated.length > 0).length;
  await w.figure(
    "gallery",
    await gallerySvg(entries),
    "preference pairs: image, hallucinated and corrected description",
    `${entries.length} of ${pairs.length} pairs; ${marked} of them with a rejected description that names an object the image does not hold.`,
  );
}
