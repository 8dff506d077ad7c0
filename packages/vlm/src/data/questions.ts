// Reading the questions to answer from a dataset file in the seed format or in one of the
// benchmark formats the data package writes (POPE, MMMU, MathVista, MM-Vet), as JSONL or a JSON array.
import { dirname, resolve } from "node:path";
import { RecordError, readRecords, resolveDatasetPath } from "@sr2se/core";

/** One question to answer: the id a Prediction carries, the image's absolute path, the prompt text. */
export interface QuestionRecord {
  id: string;
  image: string;
  question: string;
  line: number;
}

const LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/** Returns a question followed by lettered options, one a line (the shapes world's layout). */
function withOptions(stem: string, options: unknown): string {
  if (!Array.isArray(options) || options.length === 0) return stem;
  return `${stem}\n${options.map((o, i) => `(${LETTERS[i]}) ${String(o)}`).join("\n")}`;
}

/** Returns the question of one record in any supported format; throws naming the missing field. */
export function questionOf(rec: Record<string, unknown>): { id: string; image: string; question: string } {
  const str = (k: string) =>
    typeof rec[k] === "string" || typeof rec[k] === "number" ? String(rec[k]) : undefined;
  const need = (v: string | undefined, field: string) => {
    if (v === undefined) throw new Error(`field "${field}" is missing`);
    return v;
  };
  if ("question_id" in rec && "text" in rec)
    return {
      id: need(str("question_id"), "question_id"),
      image: need(str("image"), "image"),
      question: need(str("text"), "text"),
    };
  if ("image_1" in rec) {
    const stem = need(str("question"), "question").replace(/<image \d+>\s*/g, "");
    return {
      id: need(str("id"), "id"),
      image: need(str("image_1"), "image_1"),
      question: withOptions(stem, rec.options),
    };
  }
  if ("pid" in rec)
    return {
      id: need(str("pid"), "pid"),
      image: need(str("image"), "image"),
      question: withOptions(need(str("question"), "question"), rec.choices),
    };
  return {
    id: need(str("id"), "id"),
    image: need(str("image"), "image"),
    question: need(str("question"), "question"),
  };
}

/** Returns the questions of a file (JSONL or a JSON array); errors name the file and line. */
export async function readQuestions(file: string): Promise<QuestionRecord[]> {
  // JSON Lines stream (a file of any length); a JSON array is read whole, up to core's bound
  let read: Awaited<ReturnType<typeof readRecords>>;
  try {
    read = await readRecords<unknown>(file);
  } catch (err) {
    if (err instanceof RecordError) throw err;
    throw new Error(`${file}: cannot read: ${(err as Error).message}`);
  }
  const root = dirname(resolve(file));
  const rows = read.records.map((rec, i) => ({ rec, line: read.lines[i] ?? i + 1 }));
  const seen = new Set<string>();
  return rows.map(({ rec, line }) => {
    try {
      if (!rec || typeof rec !== "object" || Array.isArray(rec)) throw new Error("record is not an object");
      const q = questionOf(rec as Record<string, unknown>);
      if (seen.has(q.id)) throw new Error(`id "${q.id}" appears twice`);
      seen.add(q.id);
      return { ...q, image: resolveDatasetPath(root, q.image), line };
    } catch (err) {
      throw new Error(`${file}:${line}: ${(err as Error).message}`);
    }
  });
}
