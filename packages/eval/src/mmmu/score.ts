import type { EvalMode, Headline } from "../common/mode.js";
import { pyFloatRepr, pyRound } from "../mathvista/python-number.js";
import { EvalInputError } from "../predictions/errors.js";
import { answerText, matchPredictions } from "../predictions/match.js";
import { evalMultiChoice, evalOpen } from "./evaluate.js";
import {
  type MmmuValue,
  type MultiChoiceSource,
  parseMultiChoiceResponse,
  parseOpenResponse,
} from "./parse.js";
import { PythonRandom } from "./python-random.js";
import { MMMU_CAT_SHORT2LONG, MMMU_DISCIPLINES, multiChoiceInfo, subjectOfId } from "./subjects.js";

/** One MMMU question: the Hugging Face row or an entry of answer_dict_val.json (extra keys ignored). */
export interface MmmuQuestion {
  id: string;
  /** "multiple-choice"; anything else is scored as an open question, as the official code does. */
  question_type: string;
  /** The gold letter(s) of a multiple-choice question, the gold answer(s) of an open one. */
  answer: string | string[];
  /** Option texts in order (a list, or the Python-literal string the Hugging Face rows hold). */
  options?: string[] | string;
  /** Overrides the subject read from the id (`validation_<Subject>_<n>`). */
  subject?: string;
}

export interface MmmuOptions {
  mode?: EvalMode;
  /**
   * "parse_and_eval" (default): main_parse_and_eval.py, responses parsed (multiple choice needs `options`).
   * "eval_only": main_eval_only.py, a multiple-choice response must be the letter itself.
   */
  pipeline?: "parse_and_eval" | "eval_only";
  /** The generator of the random fallback; default a fresh PythonRandom(42), as importing eval_utils.py gives. */
  rng?: PythonRandom;
  /** "official" (default): subjects in data_utils.py's order, as `--subject ALL` runs them (the random picks depend on it); "data": file order. */
  order?: "official" | "data";
  /** Read the content of the last \boxed{…} when a response has one (default true). */
  boxed?: boolean;
}

export interface MmmuSampleResult {
  id: string;
  subject: string;
  question_type: string;
  /** The letter, or the normalized open values. */
  parsed: string | MmmuValue[];
  source?: MultiChoiceSource | "none" | "given";
  correct: boolean;
  score: number;
}

/** An accuracy cell as main_eval_only.py prints it: acc rounded to 3 decimals as Python's round() does. */
export interface MmmuCell {
  num: number;
  correct: number;
  acc: number;
  /** The unrounded accuracy. */
  accuracy: number;
}

export interface MmmuResult {
  bench: "mmmu";
  mode: EvalMode;
  /** main_eval_only.py's printable_results, key for key and in its order ("Overall-<discipline>", subjects…, "Overall"). */
  printable: Record<string, MmmuCell>;
  subjects: Record<string, MmmuCell>;
  disciplines: Record<string, MmmuCell>;
  overall: MmmuCell;
  headline: Headline;
  samples: MmmuSampleResult[];
  /** Multiple-choice responses answered by the random fallback. */
  randomPicks: number;
  table: string;
}

/** Option texts of a question: a list as is, or the Python list literal of the Hugging Face rows parsed. */
export function mmmuOptions(options: string[] | string | undefined, id: string): string[] {
  if (options === undefined || options === null) return [];
  if (Array.isArray(options)) return options.map(String);
  return parsePythonStringList(options, id);
}

/** Values of a Python list literal of strings ("['a', \"b\"]"), as ast.literal_eval reads it. */
export function parsePythonStringList(text: string, where: string): string[] {
  const s = text.trim();
  if (!s.startsWith("[") || !s.endsWith("]"))
    throw new EvalInputError("format", `${where}: options ${JSON.stringify(text)} is not a list`);
  const out: string[] = [];
  let i = 1;
  const skip = () => {
    while (i < s.length && /\s/.test(s[i] as string)) i++;
  };
  skip();
  while (i < s.length - 1) {
    const q = s[i];
    if (q !== "'" && q !== '"')
      throw new EvalInputError(
        "format",
        `${where}: options: expected a quoted string at ${i} in ${JSON.stringify(text)}`,
      );
    i++;
    let v = "";
    while (i < s.length && s[i] !== q) {
      if (s[i] === "\\") {
        const e = s[i + 1] as string;
        const map: Record<string, string> = {
          n: "\n",
          t: "\t",
          r: "\r",
          "\\": "\\",
          "'": "'",
          '"': '"',
          "0": "\0",
        };
        if (e === "u" || e === "x") {
          const len = e === "u" ? 4 : 2;
          v += String.fromCharCode(Number.parseInt(s.slice(i + 2, i + 2 + len), 16));
          i += 2 + len;
          continue;
        }
        v += map[e] ?? `\\${e}`;
        i += 2;
      } else v += s[i++];
    }
    i++;
    out.push(v);
    skip();
    if (s[i] === ",") i++;
    skip();
  }
  return out;
}

function cell(correct: number, num: number, accuracy: number): MmmuCell {
  return { num, correct, acc: pyRound(accuracy, 3), accuracy };
}

/** calculate_ins_level_acc: Σ acc·num / Σ num over the given subjects, in their order (0 for none). */
function insLevelAcc(results: readonly { acc: number; num: number }[]): number {
  let acc = 0;
  let n = 0;
  for (const r of results) {
    acc += r.acc * r.num;
    n += r.num;
  }
  return n === 0 ? 0 : acc / n;
}

/** A gold answer: robust mode reads a Python list literal ("['1.2', '1.20']") as the list it spells. */
function goldOf(q: MmmuQuestion, mode: EvalMode): string | string[] {
  const a = q.answer;
  if (mode === "robust" && typeof a === "string" && /^\s*\[.*\]\s*$/s.test(a)) {
    try {
      return parsePythonStringList(a, q.id);
    } catch {
      return a;
    }
  }
  return a;
}

/**
 * MMMU scores as main_parse_and_eval.py then main_eval_only.py compute them: each response parsed
 * (parse_multi_choice_response with the seeded random fallback, or parse_open_response), judged
 * (eval_multi_choice / eval_open), then accuracy per subject, per discipline and overall, instance-weighted,
 * rounded to 3 decimals as Python rounds. Robust mode gives no credit where nothing parses (no random guess),
 * strips punctuation in one pass and reads list-literal gold answers as lists.
 */
export function scoreMmmu(
  questions: readonly MmmuQuestion[],
  predictions: Iterable<{ id: string; response: string }>,
  options: MmmuOptions = {},
): MmmuResult {
  const mode = options.mode ?? "official";
  const pipeline = options.pipeline ?? "parse_and_eval";
  const rng = options.rng ?? new PythonRandom(42);
  if (questions.length === 0) throw new EvalInputError("empty", "mmmu: the data has no questions");
  const byId = matchPredictions(
    questions.map((q) => q.id),
    predictions,
    { label: "mmmu" },
  );

  const catOrder = Object.values(MMMU_CAT_SHORT2LONG);
  const subjectOf = (q: MmmuQuestion) => q.subject ?? subjectOfId(q.id);
  const groups = new Map<string, MmmuQuestion[]>();
  for (const q of questions) {
    const s = subjectOf(q);
    const g = groups.get(s) ?? [];
    g.push(q);
    groups.set(s, g);
  }
  const unknownSubjects = [...groups.keys()].filter((s) => !catOrder.includes(s));
  const subjectOrder = [...catOrder.filter((s) => groups.has(s)), ...unknownSubjects];
  const evalOrder =
    options.order === "data" ? [...questions] : subjectOrder.flatMap((s) => groups.get(s) as MmmuQuestion[]);

  const results = new Map<string, MmmuSampleResult>();
  let randomPicks = 0;
  for (const q of evalOrder) {
    const raw = (byId.get(q.id) as { response: string }).response;
    const response = options.boxed === false ? raw : answerText(raw);
    const gold = goldOf(q, mode);
    let parsed: string | MmmuValue[];
    let source: MmmuSampleResult["source"];
    let correct: boolean;
    if (q.question_type === "multiple-choice") {
      if (pipeline === "eval_only") {
        parsed = response;
        source = "given";
      } else {
        const opts = mmmuOptions(q.options, q.id);
        if (opts.length === 0) {
          throw new EvalInputError(
            "format",
            `mmmu: question ${q.id}: a multiple-choice question needs "options" to parse a response (or use pipeline "eval_only")`,
            [q.id],
          );
        }
        const { allChoices, index2ans } = multiChoiceInfo(opts);
        const p = parseMultiChoiceResponse(response, allChoices, index2ans, rng, mode);
        if (p.source === "random" && mode === "robust") {
          parsed = "";
          source = "none";
        } else {
          parsed = p.pred;
          source = p.source;
          if (p.source === "random") randomPicks++;
        }
      }
      correct = evalMultiChoice(gold, parsed as string);
    } else {
      parsed = parseOpenResponse(response);
      correct = evalOpen(gold, parsed);
    }
    results.set(q.id, {
      id: q.id,
      subject: subjectOf(q),
      question_type: q.question_type,
      parsed,
      source,
      correct,
      score: correct ? 1 : 0,
    });
  }

  const perSubject = new Map<string, { acc: number; num: number; correct: number }>();
  for (const s of subjectOrder) {
    const qs = groups.get(s) as MmmuQuestion[];
    const correct = qs.filter((q) => results.get(q.id)?.correct).length;
    perSubject.set(s, { acc: correct / qs.length, num: qs.length, correct });
  }
  const subjects: Record<string, MmmuCell> = {};
  for (const [s, r] of perSubject) subjects[s] = cell(r.correct, r.num, r.acc);

  const printable: Record<string, MmmuCell> = {};
  const disciplines: Record<string, MmmuCell> = {};
  const domains: [string, readonly string[]][] = Object.entries(MMMU_DISCIPLINES);
  if (unknownSubjects.length > 0) domains.push(["Other", unknownSubjects]);
  for (const [domain, cats] of domains) {
    const inDomain = cats
      .filter((c) => perSubject.has(c))
      .map((c) => [c, perSubject.get(c) as { acc: number; num: number; correct: number }] as const);
    const acc = insLevelAcc(inDomain.map(([, r]) => r));
    const num = inDomain.reduce((n, [, r]) => n + r.num, 0);
    const d = cell(
      inDomain.reduce((n, [, r]) => n + r.correct, 0),
      num,
      acc,
    );
    disciplines[domain] = d;
    printable[`Overall-${domain}`] = d;
    for (const [c] of inDomain) printable[c] = subjects[c] as MmmuCell;
  }
  const all = [...perSubject.values()];
  const overall = cell(
    all.reduce((n, r) => n + r.correct, 0),
    all.reduce((n, r) => n + r.num, 0),
    insLevelAcc(all),
  );
  printable.Overall = overall;

  const samples = questions.map((q) => results.get(q.id) as MmmuSampleResult);
  return {
    bench: "mmmu",
    mode,
    printable,
    subjects,
    disciplines,
    overall,
    headline: { metric: "accuracy", value: overall.accuracy * 100 },
    samples,
    randomPicks,
    table: mmmuTable(printable),
  };
}

/** printable_results as a Markdown table (discipline rows in bold). */
export function mmmuTable(printable: Record<string, MmmuCell>): string {
  const lines = ["| Subject | Num | Acc |", "| --- | ---: | ---: |"];
  for (const [name, c] of Object.entries(printable)) {
    const label = name.startsWith("Overall") ? `**${name}**` : name;
    // As Python prints them: a float acc (1.0, 0.062), the int 0 of an empty discipline.
    lines.push(`| ${label} | ${c.num} | ${c.num === 0 ? "0" : pyFloatRepr(c.acc)} |`);
  }
  return lines.join("\n");
}
