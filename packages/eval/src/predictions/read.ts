import { readFile } from "node:fs/promises";
import { type Prediction, PredictionSchema, RecordError, readRecords } from "@sr2se/core";
import { EvalInputError, firstIds } from "./errors.js";

/** Predictions of a JSONL or JSON-array file (`PredictionSchema` of @sr2se/core), in file order; an empty response is valid. */
export async function readPredictions(file: string): Promise<Prediction[]> {
  const { records, lines } = await readRecords<Prediction>(file, { schema: PredictionSchema });
  if (records.length === 0)
    throw new EvalInputError("empty", `${file}: no predictions (the file is empty)`, [], file);
  const firstLine = new Map<string, number>();
  const duplicates: string[] = [];
  records.forEach((r, i) => {
    const seen = firstLine.get(r.id);
    if (seen === undefined) firstLine.set(r.id, lines[i] ?? 0);
    else duplicates.push(`${r.id} (lines ${seen} and ${lines[i]})`);
  });
  if (duplicates.length > 0) {
    throw new EvalInputError(
      "duplicate",
      `${file}: ${duplicates.length} duplicate prediction id${duplicates.length > 1 ? "s" : ""}: ${firstIds(duplicates)}`,
      duplicates.map((d) => d.slice(0, d.indexOf(" ("))),
      file,
    );
  }
  return records;
}

/** Records of a data file and the 1-based line of each (0 for records of a keyed JSON object). */
export interface DataRecords {
  records: Record<string, unknown>[];
  lines: number[];
}

/**
 * Records of a benchmark data file: a JSON array, JSON Lines, or one JSON object keyed by id (MathVista's
 * testmini.json, MMMU's answer_dict), whose values get `idField` set to their key when they lack it.
 */
export async function readData(file: string, options: { idField?: string } = {}): Promise<DataRecords> {
  const idField = options.idField ?? "id";
  let text = await readFile(file, "utf8");
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const head = text.trimStart().charAt(0);
  let result: DataRecords;
  if (head === "{" && !isJsonl(text)) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new RecordError(file, 1, `invalid JSON: ${(err as Error).message}`);
    }
    const entries = Object.entries(value as Record<string, unknown>);
    const keyed = entries.every(([, v]) => v !== null && typeof v === "object" && !Array.isArray(v));
    // One line holding one record (`{"answer": "yes"}`) is JSON Lines, not an object keyed by id.
    if (!keyed && text.trim().split(/\r?\n/).length === 1) return readData1(file, [value]);
    result = { records: [], lines: [] };
    for (const [key, v] of entries) {
      if (v === null || typeof v !== "object" || Array.isArray(v)) {
        throw new EvalInputError(
          "format",
          `${file}: entry "${key}" is not an object (expected {"<id>": {...}, ...})`,
          [key],
          file,
        );
      }
      const rec = v as Record<string, unknown>;
      result.records.push(rec[idField] === undefined ? { ...rec, [idField]: key } : rec);
      result.lines.push(0);
    }
  } else {
    const r = await readRecords<unknown>(file);
    result = { records: [], lines: r.lines };
    r.records.forEach((rec, i) => {
      if (rec === null || typeof rec !== "object" || Array.isArray(rec)) {
        throw new RecordError(file, r.lines[i] ?? 0, "expected a JSON object");
      }
      result.records.push(rec as Record<string, unknown>);
    });
  }
  if (result.records.length === 0)
    throw new EvalInputError("empty", `${file}: no records (the file is empty)`, [], file);
  return result;
}

function readData1(file: string, values: unknown[]): DataRecords {
  const records = values.map((v) => {
    if (v === null || typeof v !== "object" || Array.isArray(v))
      throw new RecordError(file, 1, "expected a JSON object");
    return v as Record<string, unknown>;
  });
  return { records, lines: records.map(() => 1) };
}

/** True when the text holds more than one top-level JSON value, one a line. */
function isJsonl(text: string): boolean {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== "");
  if (lines.length < 2) return false;
  try {
    JSON.parse(lines[0] as string);
    return true;
  } catch {
    return false;
  }
}

/** The string id of a data record's `field`, or an error naming the file, line and field. */
export function recordId(record: Record<string, unknown>, field: string, where: string): string {
  const v = record[field];
  if (typeof v === "string" && v !== "") return v;
  if (typeof v === "number" && Number.isFinite(v)) return String(v);
  if (v === undefined) throw new EvalInputError("format", `${where}: field "${field}" is missing`);
  throw new EvalInputError(
    "format",
    `${where}: field "${field}": expected a string or number id, got ${JSON.stringify(v)}`,
  );
}
