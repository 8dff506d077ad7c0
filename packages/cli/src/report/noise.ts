// How large the benches are and how wide their 95% intervals come out: whether a 2-point change is noise.
import type { Comparison } from "@sr2se/eval";

/**
 * The expected half-width (points) of a paired 95% interval of an accuracy-like difference on `n` questions
 * per seed, pooled over `seeds`, when the two models disagree on a share `discordance` of the questions:
 * 1.96 · 100 · √(discordance / n) / √seeds (the paired difference's standard error, McNemar's).
 */
export function pairedHalfWidth(n: number, discordance: number, seeds = 1): number {
  return (1.96 * 100 * Math.sqrt(discordance / n)) / Math.sqrt(seeds);
}

/** Markdown: each benchmark's questions and the measured widths of its score's and its difference's 95% intervals. */
export function noiseTable(c: Comparison, seeds: number): string {
  return [
    "| Benchmark | questions (all seeds) | 95% interval of the score (width) | 95% interval of the paired difference (width) |",
    "| --- | ---: | ---: | ---: |",
    ...c.rows.map(
      (r) =>
        `| ${r.benchmark} (${r.metric}) | ${r.n}${seeds > 1 ? ` (${Math.round(r.n / seeds)} a seed)` : ""} | ${(r.baseline.high - r.baseline.low).toFixed(1)} | ${(r.improvement.high - r.improvement.low).toFixed(1)} |`,
    ),
  ].join("\n");
}

/** A sentence on POPE's size: the expected half-width of a paired difference per split, one seed and pooled. */
export function popeSizeStatement(questionsPerSplit: number, seeds: number): string {
  const d = 0.1;
  const one = pairedHalfWidth(questionsPerSplit, d, 1);
  const pooled = pairedHalfWidth(questionsPerSplit, d, seeds);
  return `POPE has ${questionsPerSplit} questions a split a seed. Where two models disagree on ${100 * d}% of the questions (typical of a fine-tuning step), a paired difference's 95% interval is about ±${one.toFixed(1)} points on one seed${seeds > 1 ? ` and ±${pooled.toFixed(1)} pooled over ${seeds} seeds` : ""} (1.96 · 100 · √(0.1 / n) / √seeds); a 2-point change is ${(seeds > 1 ? pooled : one) < 2 ? "outside" : "NOT outside"} that noise. F1 moves a little more than accuracy; the measured widths are below.`;
}
