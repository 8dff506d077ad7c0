// The issue's goals checked against the comparisons, each stated plainly as met or not met.
import type { Comparison, ComparisonRow } from "@sr2se/eval";

/** What a goal check reads: the self-evolution variant against the baseline and, where run, the controls. */
export interface GoalInput {
  variant: string;
  baseline: string;
  vsBaseline: Comparison;
  /** The variant against each control (the control is the comparison's baseline). */
  vsControls: { control: string; comparison: Comparison }[];
  /** "pooled over 3 seeds" or "one run". */
  scope: string;
}

const signed = (x: number) => `${x >= 0 ? "+" : "−"}${Math.abs(x).toFixed(1)}`;
const iv = (r: ComparisonRow) =>
  `${signed(r.improvement.value)} [${signed(r.improvement.low)}, ${signed(r.improvement.high)}]`;

function find(c: Comparison, benchmark: string, metric: string): ComparisonRow | undefined {
  return c.rows.find((r) => r.benchmark === benchmark && r.metric === metric);
}

/** The relative cut of a lower-is-better row: (baseline − ours) / baseline. */
function relativeCut(r: ComparisonRow): number {
  return r.baseline.value === 0 ? 0 : r.improvement.value / r.baseline.value;
}

/** One Markdown list of goal statements for a variant, "met" or "NOT met" each with the numbers behind it. */
export function goalStatements(g: GoalInput): string {
  const out: string[] = [];
  const say = (met: boolean | null, what: string, detail: string) =>
    out.push(`- ${met === null ? "**not measured**" : met ? "**met**" : "**NOT met**"}: ${what} — ${detail}`);
  const adv = find(g.vsBaseline, "pope adversarial", "F1");
  say(
    adv ? adv.improvement.value >= 4.3 && adv.improvement.low > 0 : null,
    "POPE adversarial F1 up by ≥ 4.3 points with the interval above 0",
    adv ? `${iv(adv)} (${g.scope})` : "no POPE adversarial result",
  );
  const chair = find(g.vsBaseline, "chair", "CHAIR_i");
  say(
    chair ? relativeCut(chair) >= 0.4 : null,
    "CHAIR_i on held-out descriptions down by ≥ 40%",
    chair
      ? `${chair.baseline.value.toFixed(1)} → ${chair.ours.value.toFixed(1)} (${(100 * relativeCut(chair)).toFixed(0)}% cut; improvement ${iv(chair)})`
      : "no CHAIR result",
  );
  const fpr = g.vsBaseline.rows.filter((r) => r.metric === "FPR");
  if (fpr.length) {
    const base = fpr.reduce((t, r) => t + r.baseline.value, 0) / fpr.length;
    const ours = fpr.reduce((t, r) => t + r.ours.value, 0) / fpr.length;
    const cut = base === 0 ? 0 : (base - ours) / base;
    say(
      cut >= 0.4,
      "POPE false-positive rate (mean of the splits) down by ≥ 40%",
      `${base.toFixed(1)} → ${ours.toFixed(1)} (${(100 * cut).toFixed(0)}% cut; ${fpr.map((r) => `${r.benchmark.replace("pope ", "")} ${iv(r)}`).join(", ")})`,
    );
  } else say(null, "POPE false-positive rate down by ≥ 40%", "no POPE result");
  const worse = g.vsBaseline.rows.filter((r) => r.improvement.high < 0);
  say(
    worse.length === 0,
    `no benchmark worse than ${g.baseline} beyond its interval`,
    worse.length
      ? `worse: ${worse.map((r) => `${r.benchmark} (${r.metric}) ${iv(r)}`).join("; ")}`
      : `${g.vsBaseline.rows.length} rows checked`,
  );
  for (const { control, comparison } of g.vsControls) {
    const f1 = find(comparison, "pope adversarial", "F1");
    const ch = find(comparison, "chair", "CHAIR_i");
    const ok = [f1, ch].filter((r): r is ComparisonRow => r !== undefined);
    say(
      ok.length ? ok.every((r) => r.improvement.low > 0) : null,
      `beats ${control} on POPE adversarial F1 and CHAIR_i (intervals above 0)`,
      ok.length ? ok.map((r) => `${r.benchmark} (${r.metric}) ${iv(r)}`).join("; ") : "no shared benchmark",
    );
  }
  return out.join("\n");
}
