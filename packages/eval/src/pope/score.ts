import { basename } from "node:path";
import type { EvalMode, Headline } from "../common/mode.js";
import { EvalInputError } from "../predictions/errors.js";
import { answerText, matchPredictions } from "../predictions/match.js";
import { readData } from "../predictions/read.js";
import { averagePopeMetrics, type PopeMetrics, popeMetrics } from "./metrics.js";
import { parsePopeAnswer, popeLabel } from "./parse.js";

/** POPE's three negative-sampling settings, in the paper's order. */
export const POPE_SPLITS = ["random", "popular", "adversarial"] as const;

/** One POPE question as scored: its id, split, the object question and the yes/no label. */
export interface PopeQuestion {
  id: string;
  split: string;
  label: string;
  image?: string;
  text?: string;
}

export interface PopeOptions {
  mode?: EvalMode;
  /** Read the content of the last \boxed{…} when a response has one (default true; the official files hold bare answers). */
  boxed?: boolean;
}

/** One scored question. */
export interface PopeSampleResult {
  id: string;
  split: string;
  label: 0 | 1;
  pred: 0 | 1;
  /** 1 when the reading matches the label. */
  score: number;
}

export interface PopeResult {
  bench: "pope";
  mode: EvalMode;
  /** Metrics per split, in POPE_SPLITS order then first appearance. */
  splits: Record<string, PopeMetrics>;
  /** The mean of each score over the splits. */
  average: PopeMetrics;
  headline: Headline;
  samples: PopeSampleResult[];
  table: string;
}

/** The split a file's name names (coco_pope_adversarial.json → "adversarial"), or null. */
export function splitFromFileName(file: string): string | null {
  const name = basename(file).toLowerCase();
  for (const s of POPE_SPLITS) if (name.includes(s)) return s;
  return null;
}

/**
 * POPE questions of one or more files in POPE's own format (`question_id`, `image`, `text`, `label`, JSONL) or
 * LLaVA's (`category` names the split) or sr2se samples (`id`, `answer`). The split is the record's `category`
 * or `split`, else the file name's. Where question ids repeat across split files (POPE numbers each file from 1),
 * every id becomes `<split>/<question_id>`.
 */
export async function readPopeQuestions(files: string | readonly string[]): Promise<PopeQuestion[]> {
  const list = typeof files === "string" ? [files] : files;
  const questions: PopeQuestion[] = [];
  for (const file of list) {
    const { records, lines } = await readData(file);
    const fileSplit = splitFromFileName(file);
    records.forEach((r, i) => {
      const where = `${file}:${lines[i]}`;
      const rawId = r.question_id ?? r.id;
      if (rawId === undefined || rawId === null || rawId === "") {
        throw new EvalInputError("format", `${where}: field "question_id" is missing`, [], file);
      }
      const label = r.label ?? r.answer;
      if (typeof label !== "string") {
        throw new EvalInputError(
          "format",
          label === undefined
            ? `${where}: field "label" is missing`
            : `${where}: field "label": expected "yes" or "no", got ${JSON.stringify(label)}`,
          [],
          file,
        );
      }
      const split = r.category ?? r.split ?? fileSplit ?? "all";
      questions.push({
        id: String(rawId),
        split: String(split),
        label,
        image: typeof r.image === "string" ? r.image : undefined,
        text: typeof r.text === "string" ? r.text : typeof r.question === "string" ? r.question : undefined,
      });
    });
  }
  const seen = new Map<string, string>();
  let collide = false;
  for (const q of questions) {
    const other = seen.get(q.id);
    if (other !== undefined && other !== q.split) collide = true;
    seen.set(q.id, q.split);
  }
  if (collide) for (const q of questions) q.id = `${q.split}/${q.id}`;
  return questions;
}

function splitOrder(names: Iterable<string>): string[] {
  const all = [...new Set(names)];
  const known = POPE_SPLITS.filter((s) => all.includes(s));
  return [...known, ...all.filter((s) => !(POPE_SPLITS as readonly string[]).includes(s))];
}

/** Metrics per split and averaged, from scored samples (also what `compare` recomputes on resamples). */
export function popeSplitMetrics(
  samples: readonly Pick<PopeSampleResult, "split" | "label" | "pred">[],
  mode: EvalMode = "official",
) {
  const bySplit = new Map<string, { preds: (0 | 1)[]; labels: (0 | 1)[] }>();
  for (const s of samples) {
    const b = bySplit.get(s.split) ?? { preds: [], labels: [] };
    b.preds.push(s.pred);
    b.labels.push(s.label);
    bySplit.set(s.split, b);
  }
  const splits: Record<string, PopeMetrics> = {};
  for (const name of splitOrder(bySplit.keys())) {
    const b = bySplit.get(name) as { preds: (0 | 1)[]; labels: (0 | 1)[] };
    splits[name] = popeMetrics(b.preds, b.labels, mode);
  }
  return { splits, average: averagePopeMetrics(Object.values(splits)) };
}

const pct = (x: number) => (Number.isNaN(x) ? "nan" : (x * 100).toFixed(2));

/** The metrics as a Markdown table, one row a split and the average last. */
export function popeTable(splits: Record<string, PopeMetrics>, average: PopeMetrics): string {
  const lines = [
    "| Split | N | Accuracy | Precision | Recall | F1 | Yes ratio | TP | FP | TN | FN |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  const row = (name: string, m: PopeMetrics) =>
    `| ${name} | ${m.n} | ${pct(m.accuracy)} | ${pct(m.precision)} | ${pct(m.recall)} | ${pct(m.f1)} | ${pct(m.yesRatio)} | ${m.TP} | ${m.FP} | ${m.TN} | ${m.FN} |`;
  for (const [name, m] of Object.entries(splits)) lines.push(row(name, m));
  if (Object.keys(splits).length > 1) lines.push(row("average", average));
  return lines.join("\n");
}

/**
 * POPE scores as RUCAIBox/POPE's evaluate.py computes them (accuracy, precision, recall, F1, yes ratio) per
 * split and averaged over splits. Predictions are matched to questions by id, not by line position.
 */
export function scorePope(
  questions: readonly PopeQuestion[],
  predictions: Iterable<{ id: string; response: string }>,
  options: PopeOptions = {},
): PopeResult {
  const mode = options.mode ?? "official";
  if (questions.length === 0) throw new EvalInputError("empty", "pope: the data has no questions");
  const byId = matchPredictions(
    questions.map((q) => q.id),
    predictions,
    { label: "pope" },
  );
  const samples: PopeSampleResult[] = questions.map((q) => {
    const label = popeLabel(q.label, mode);
    if (label === null)
      throw new EvalInputError(
        "format",
        `pope: question ${q.id}: label ${JSON.stringify(q.label)} is neither yes nor no`,
        [q.id],
      );
    const response = (byId.get(q.id) as { response: string }).response;
    const text = options.boxed === false ? response : answerText(response);
    const pred = parsePopeAnswer(text, mode) === "yes" ? 1 : 0;
    return { id: q.id, split: q.split, label, pred, score: pred === label ? 1 : 0 };
  });
  const { splits, average } = popeSplitMetrics(samples, mode);
  return {
    bench: "pope",
    mode,
    splits,
    average,
    headline: { metric: "F1", value: average.f1 * 100 },
    samples,
    table: popeTable(splits, average),
  };
}
