import { mapPool } from "@sr2se/core";
import { answerText, EvalInputError, matchPredictions } from "../predictions/index.js";
import { aggregateMmVet, type MmVetTable } from "./aggregate.js";
import { type GradeOptions, type GradeOutcome, gradeSample } from "./grade.js";
import type { MmVetJudge } from "./judge.js";
import type { MmVetMode, MmVetSample } from "./types.js";

export interface MmVetOptions extends Omit<GradeOptions, "mode"> {
  /** The grader: createMmVetJudge(...) for the official GPT-4 setup, or ShapesWorldJudge (not official). */
  judge: MmVetJudge;
  mode?: MmVetMode;
  /** Grading runs (official default 1; the paper reports 5). */
  runs?: number;
  /** Decimal places of the reported scores (official default 1). */
  decimalPlaces?: number;
  /** Samples graded at once (the official script grades one at a time; results do not depend on it). */
  concurrency?: number;
  /** Grade the content of the last \boxed{…} when a response has one (default: on in robust mode only). */
  boxed?: boolean;
  /** Called after each graded sample. */
  onGraded?: (done: number, total: number) => void;
}

export interface MmVetResult {
  bench: "mmvet";
  mode: MmVetMode;
  judge: { model: string; official: boolean };
  /** False when the judge is not the benchmark's LLM grader: then the numbers are not MM-Vet scores. */
  official: boolean;
  label: string;
  /** Mean total over runs in percent (unrounded). */
  headline: { metric: "total"; value: number };
  runs: number;
  capabilities: MmVetTable;
  capabilitySets: MmVetTable;
  /** The official grade file: per sample the model, reply content and score of each run. */
  grades: Record<string, { model: string[]; content: (string | null)[]; score: number[] }>;
  /** Grades where every try failed to parse and 0.0 was given. */
  fallbacks: number;
  /** Per-sample score in [0, 1], averaged over runs. */
  samples: { id: string; score: number }[];
  table: string;
}

/** The samples of MM-Vet data given as mm-vet.json's id-keyed object or as a list of records, checked. */
function sampleList(
  data: readonly Record<string, unknown>[] | Record<string, Record<string, unknown>>,
): MmVetSample[] {
  const entries: Record<string, unknown>[] = Array.isArray(data)
    ? (data as Record<string, unknown>[])
    : Object.entries(data as Record<string, Record<string, unknown>>).map(([id, v]) => ({
        ...v,
        id: v.id ?? id,
      }));
  return entries.map((rec, i) => {
    const where = rec.id === undefined ? `sample #${i + 1}` : `sample ${String(rec.id)}`;
    const fail = (field: string, what: string) =>
      new EvalInputError("format", `mmvet: ${where}: field "${field}" ${what}`, [String(rec.id ?? i + 1)]);
    if (typeof rec.id !== "string" && typeof rec.id !== "number") throw fail("id", "is missing");
    if (typeof rec.question !== "string") throw fail("question", "is missing");
    if (typeof rec.answer !== "string") throw fail("answer", "is missing");
    const cap = rec.capability;
    if (!Array.isArray(cap) || cap.length === 0 || !cap.every((c) => typeof c === "string")) {
      throw fail("capability", "must be a non-empty list of strings");
    }
    return { ...rec, id: String(rec.id) } as MmVetSample;
  });
}

function tableMarkdown(title: string, t: MmVetTable): string {
  const names = [...Object.keys(t.columns), "total", "std", "runs"];
  const cells = [
    ...Object.values(t.columns).map((c) => String(c.score)),
    String(t.total.score),
    String(t.std),
    t.runs,
  ];
  return [
    `**${title}**`,
    "",
    `| ${names.join(" | ")} |`,
    `| ${names.map(() => "---:").join(" | ")} |`,
    `| ${cells.join(" | ")} |`,
  ].join("\n");
}

/**
 * MM-Vet scores as mm-vet_evaluator.py computes them: every sample graded by the judge in each run
 * (official prompt, retries and fallbacks), then per-capability and per-capability-set scores
 * (mean over runs), the total, and the std of the run totals.
 */
export async function scoreMmVet(
  data: readonly Record<string, unknown>[] | Record<string, Record<string, unknown>>,
  predictions: Iterable<{ id: string; response: string }>,
  options: MmVetOptions,
): Promise<MmVetResult> {
  const mode = options.mode ?? "official";
  const runs = options.runs ?? 1;
  if (!Number.isInteger(runs) || runs < 1)
    throw new RangeError(`mmvet: runs must be a positive integer, got ${runs}`);
  const samples = sampleList(data);
  if (samples.length === 0) throw new EvalInputError("empty", "mmvet: the data has no samples");
  const byId = matchPredictions(
    samples.map((s) => s.id),
    predictions,
    { label: "mmvet" },
  );
  const useBoxed = options.boxed ?? mode === "robust";
  const { judge } = options;
  const outcomes = new Map<string, GradeOutcome[]>(samples.map((s) => [s.id, []]));
  let done = 0;
  for (let run = 0; run < runs; run++) {
    await mapPool(samples, options.concurrency ?? 4, async (sample, _index, signal) => {
      const raw = (byId.get(sample.id) as { response: string }).response;
      const prediction = useBoxed ? answerText(raw) : raw;
      let outcome: GradeOutcome;
      try {
        outcome = await gradeSample(judge, sample, prediction, run, { ...options, mode, signal });
      } catch (err) {
        throw new Error(`mmvet: grading sample ${sample.id} (run ${run}) failed: ${(err as Error).message}`, {
          cause: err,
        });
      }
      (outcomes.get(sample.id) as GradeOutcome[])[run] = outcome;
      options.onGraded?.(++done, samples.length * runs);
    });
  }
  const scores = new Map(
    samples.map((s) => [s.id, (outcomes.get(s.id) as GradeOutcome[]).map((o) => o.score)]),
  );
  const { capabilities, capabilitySets } = aggregateMmVet(samples, scores, runs, options.decimalPlaces ?? 1);
  const grades: MmVetResult["grades"] = {};
  let fallbacks = 0;
  for (const s of samples) {
    const list = outcomes.get(s.id) as GradeOutcome[];
    fallbacks += list.filter((o) => o.fallback).length;
    grades[s.id] = {
      model: list.map((o) => o.model),
      content: list.map((o) => o.content),
      score: list.map((o) => o.score),
    };
  }
  const official = judge.official;
  const label = official
    ? `MM-Vet (mode: ${mode}), judge ${judge.model}, ${runs} run${runs > 1 ? "s" : ""}`
    : `NOT official MM-Vet: deterministic ${judge.model} judge (mode: ${mode}), ${runs} run${runs > 1 ? "s" : ""}`;
  const headline = capabilities.total.perRun.reduce((a, b) => a + b, 0) / runs;
  return {
    bench: "mmvet",
    mode,
    judge: { model: judge.model, official },
    official,
    label,
    headline: { metric: "total", value: headline },
    runs,
    capabilities,
    capabilitySets,
    grades,
    fallbacks,
    samples: samples.map((s) => ({
      id: s.id,
      score: (scores.get(s.id) as number[]).reduce((a, b) => a + b, 0) / runs,
    })),
    table: `${label}\n\n${tableMarkdown("Capabilities", capabilities)}\n\n${tableMarkdown("Capability integration", capabilitySets)}`,
  };
}
