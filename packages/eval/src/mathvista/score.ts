import { mapPool } from "@sr2se/core";
import { answerText, EvalInputError, matchPredictions } from "../predictions/index.js";
import { type ExtractionMethod, extractAnswer, type MathVistaExtractor } from "./extract-answer.js";
import { normalizeExtractedAnswer, safeEqual } from "./normalize.js";
import { pyFormatFixed } from "./python-number.js";
import type { MathVistaProblem, ScoringMode } from "./types.js";

/** The fields MathVista's calculate_score.py breaks accuracy down by, in its order. */
export const MATHVISTA_TARGET_KEYS = [
  "question_type",
  "answer_type",
  "language",
  "source",
  "category",
  "task",
  "context",
  "grade",
  "skills",
] as const;

export interface MathVistaPrediction {
  id: string;
  response: string;
  /** An extraction made earlier (the official pipeline's `extraction` field); skips extract_answer. */
  extraction?: string | null;
}

export interface MathVistaOptions {
  mode?: ScoringMode;
  /** The official --quick_extract flag: `The answer is "…".` before the LLM (default false, as there). */
  quickExtract?: boolean;
  /** The LLM extractor, asked only where the rules find nothing. Without one such responses extract "". */
  extractor?: MathVistaExtractor;
  /** The official --ignore_empty_extractions flag (default false; always on in robust mode). */
  ignoreEmptyExtractions?: boolean;
  /** Score the content of the last \boxed{…} when a response has one (default: on in robust mode only). */
  boxed?: boolean;
  /** More metadata fields to break accuracy down by (e.g. "family", "difficulty"). */
  extraKeys?: string[];
  /** Extractor calls in flight at once (default 4). */
  concurrency?: number;
}

export interface AccuracyCell {
  accuracy: number;
  correct: number;
  total: number;
}

export interface MathVistaProblemResult {
  pid: string;
  response: string;
  extraction: string | null;
  method: ExtractionMethod | "given";
  prediction: string | null;
  answer: unknown;
  true_false: boolean;
}

export interface MathVistaResult {
  bench: "mathvista";
  mode: ScoringMode;
  /** Overall accuracy in percent, the number MathVista tables show. */
  headline: { metric: "accuracy"; value: number };
  /** calculate_score.py's scores.json: `average` then one table per target key, best accuracy first. */
  scores: { average: AccuracyCell } & Record<string, Record<string, AccuracyCell> | AccuracyCell>;
  problems: MathVistaProblemResult[];
  /** Per-sample 0/1 scores in data order (for paired comparisons). */
  samples: { id: string; score: number }[];
  /** Responses the rules could not extract and no extractor was given for. */
  unextracted: number;
  /** Extractor calls that threw (scored as an empty extraction, as the official script does). */
  extractorErrors: number;
  table: string;
}

/** The problems of a MathVista data set given as the official pid-keyed object or as a list, checked. */
function problemList(
  data: readonly MathVistaProblem[] | readonly Record<string, unknown>[] | Record<string, MathVistaProblem>,
): MathVistaProblem[] {
  const list = Array.isArray(data)
    ? [...(data as MathVistaProblem[])]
    : Object.entries(data as Record<string, MathVistaProblem>).map(([pid, p]) => ({
        ...p,
        pid: p.pid ?? pid,
      }));
  list.forEach((p, i) => {
    const where = p.pid === undefined ? `problem #${i + 1}` : `problem ${p.pid}`;
    const rec = p as Record<string, unknown>;
    for (const field of ["pid", "question_type", "answer_type"]) {
      if (typeof rec[field] !== "string" && typeof rec[field] !== "number") {
        throw new EvalInputError("format", `mathvista: ${where}: field "${field}" is missing`, [
          String(p.pid ?? i + 1),
        ]);
      }
    }
    if (rec.answer === undefined) {
      throw new EvalInputError("format", `mathvista: ${where}: field "answer" is missing`, [String(p.pid)]);
    }
  });
  return list.map((p) => ({ ...p, pid: String(p.pid) }));
}

/** Value of a breakdown field of a problem: top-level for the types, else from metadata. */
function fieldOf(problem: MathVistaProblem, key: string): unknown {
  if (key === "question_type" || key === "answer_type") return problem[key];
  const meta = problem.metadata;
  if (meta && key in meta) return meta[key];
  return problem[key];
}

/** Accuracy per value of `key`, best first, ties in order of first appearance (pandas' unique + stable sort). */
function breakdown(
  problems: MathVistaProblem[],
  correct: boolean[],
  key: string,
): Record<string, AccuracyCell> {
  const cells = new Map<string, AccuracyCell>();
  problems.forEach((problem, i) => {
    const value = fieldOf(problem, key);
    if (value === undefined || value === null) return;
    const values = Array.isArray(value) ? value : [value];
    // A skill listed twice in one problem still counts the problem once (pandas' `value in x`).
    for (const v of new Set(values.map((x) => String(x)))) {
      const cell = cells.get(v) ?? { accuracy: 0, correct: 0, total: 0 };
      cell.total++;
      if (correct[i]) cell.correct++;
      cells.set(v, cell);
    }
  });
  const rows = [...cells.entries()].map(([k, c]) => [k, { ...c, accuracy: c.correct / c.total }] as const);
  rows.sort((a, b) => b[1].accuracy - a[1].accuracy);
  return Object.fromEntries(rows);
}

function percent(acc: number): string {
  return `${pyFormatFixed(acc * 100, 2)}%`;
}

/** The scores as a Markdown table: overall first, then every breakdown row. */
export function mathVistaTable(scores: MathVistaResult["scores"]): string {
  const lines = ["| Group | Value | Accuracy | Correct/Total |", "| --- | --- | ---: | ---: |"];
  const avg = scores.average;
  lines.push(`| overall | all | ${percent(avg.accuracy)} | ${avg.correct}/${avg.total} |`);
  for (const [key, table] of Object.entries(scores)) {
    if (key === "average") continue;
    for (const [value, cell] of Object.entries(table as Record<string, AccuracyCell>)) {
      lines.push(
        `| ${key} | ${value.replaceAll("|", "\\|")} | ${percent(cell.accuracy)} | ${cell.correct}/${cell.total} |`,
      );
    }
  }
  return lines.join("\n");
}

/**
 * MathVista scores as evaluation/extract_answer.py then calculate_score.py compute them: overall
 * accuracy and accuracy by question type, answer type, language, source, category, task, context,
 * grade and skill (a problem counts once for each of its skills), with the per-problem verdicts.
 */
export async function scoreMathVista(
  data: readonly MathVistaProblem[] | readonly Record<string, unknown>[] | Record<string, MathVistaProblem>,
  predictions: Iterable<MathVistaPrediction>,
  options: MathVistaOptions = {},
): Promise<MathVistaResult> {
  const mode = options.mode ?? "official";
  const robust = mode === "robust";
  const problems = problemList(data);
  if (problems.length === 0) throw new EvalInputError("empty", "mathvista: the data has no problems");
  const byId = matchPredictions(
    problems.map((p) => p.pid),
    predictions,
    { label: "mathvista" },
  );
  const useBoxed = options.boxed ?? robust;

  const results = await mapPool(problems, options.concurrency ?? 4, async (problem, _index, signal) => {
    const pid = String(problem.pid);
    const prediction = byId.get(pid) as MathVistaPrediction;
    const response = typeof prediction.response === "string" ? prediction.response : "";
    let extraction: string | null;
    let method: MathVistaProblemResult["method"];
    let error: string | undefined;
    if (prediction.extraction !== undefined) {
      extraction = prediction.extraction;
      method = "given";
    } else {
      const text = useBoxed ? answerText(response) : response;
      const extracted = await extractAnswer(robust ? text.trim() : text, problem, { ...options, signal });
      extraction = extracted.extraction;
      method = extracted.method;
      error = extracted.error;
    }
    let normalized: string | null;
    try {
      normalized = normalizeExtractedAnswer(
        extraction,
        problem.choices,
        problem.question_type,
        problem.answer_type,
        problem.precision,
        { mode, ignoreEmptyExtractions: options.ignoreEmptyExtractions, answer: problem.answer },
      );
    } catch (err) {
      throw new Error(`mathvista: problem ${pid}: ${err instanceof Error ? err.message : String(err)}`);
    }
    const row: MathVistaProblemResult = {
      pid,
      response,
      extraction,
      method,
      prediction: normalized,
      answer: problem.answer,
      true_false: safeEqual(normalized, problem.answer, mode),
    };
    return { row, error };
  });

  const rows = results.map((r) => r.row);
  const correctFlags = rows.map((r) => r.true_false);
  const correct = correctFlags.filter(Boolean).length;
  const scores: MathVistaResult["scores"] = {
    average: { accuracy: correct / rows.length, correct, total: rows.length },
  };
  for (const key of [...MATHVISTA_TARGET_KEYS, ...(options.extraKeys ?? [])]) {
    const table = breakdown(problems, correctFlags, key);
    if (Object.keys(table).length > 0) scores[key] = table;
  }
  return {
    bench: "mathvista",
    mode,
    headline: { metric: "accuracy", value: 100 * scores.average.accuracy },
    scores,
    problems: rows,
    samples: rows.map((r) => ({ id: r.pid, score: r.true_false ? 1 : 0 })),
    unextracted: rows.filter((r) => r.method === "none").length,
    extractorErrors: results.filter((r) => r.error !== undefined).length,
    table: mathVistaTable(scores),
  };
}
