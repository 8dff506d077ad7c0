import { open, readFile, stat } from "node:fs/promises";
import { describeIssue, RecordError, type SkippedLine } from "./errors.js";
import { fillDefaultId, type ReadOptions, readJsonl } from "./reader.js";

/** The largest JSON array file `readRecords` reads whole (V8's longest string is 512 MiB). */
export const MAX_JSON_BYTES = 512 * 1024 * 1024 - 1024;

/** Records read into memory, with the 1-based line each one started on. */
export interface RecordsResult<T> {
  records: T[];
  lines: number[];
  skipped: SkippedLine[];
}

/**
 * Reads a dataset file that is either a JSON array of records or JSON Lines (decided by its first
 * non-blank character), validating each record. Errors name the file and the record's line.
 */
export async function readRecords<T = unknown>(
  file: string,
  options: ReadOptions<T> = {},
): Promise<RecordsResult<T>> {
  if ((await recordsLayout(file)) === "lines") {
    const reader = readJsonl<T>(file, options);
    const records: T[] = [];
    const lines: number[] = [];
    for await (const rec of reader) {
      records.push(rec);
      lines.push(reader.lineOf(rec) ?? 0);
    }
    return { records, lines, skipped: reader.skipped };
  }
  // a JSON array is read whole: past what one string can hold, say so instead of failing inside V8
  const max = options.maxJsonBytes ?? MAX_JSON_BYTES;
  const { size } = await stat(file);
  if (size > max)
    throw new RecordError(
      file,
      1,
      `a JSON array of ${size} bytes is over the ${max} bytes read whole; write the records as JSON Lines, which stream`,
    );
  let text = await readFile(file, "utf8");
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let values: unknown;
  try {
    values = JSON.parse(text);
  } catch (err) {
    const message = (err as Error).message;
    const pos = /position (\d+)/.exec(message);
    const line = pos ? lineAt(text, Number(pos[1])) : firstBadElementLine(text);
    throw new RecordError(file, line, `invalid JSON: ${message}`);
  }
  if (!Array.isArray(values))
    throw new RecordError(file, 1, "expected a JSON array of records or JSON Lines");
  const starts = topLevelElementLines(text);
  const result: RecordsResult<T> = { records: [], lines: [], skipped: [] };
  values.forEach((value, i) => {
    const line = starts[i] ?? 1;
    fillDefaultId(value, line, options);
    if (options.schema) {
      const parsed = options.schema.safeParse(value);
      if (!parsed.success) {
        const { field, detail } = describeIssue(parsed.error, value);
        if (!options.lenient) throw new RecordError(file, line, detail, field);
        result.skipped.push({ file, line, message: `${file}:${line}: ${detail}` });
        return;
      }
      value = parsed.data;
    }
    result.records.push(value as T);
    result.lines.push(line);
  });
  return result;
}

/**
 * Returns how a records file is laid out, by its first non-blank character: `"array"` for a JSON
 * array of records, `"lines"` for JSON Lines. A missing file is an error naming it.
 */
export async function recordsLayout(file: string): Promise<"array" | "lines"> {
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(file, "r");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(code === "ENOENT" ? `${file}: no such file` : `${file}: ${(err as Error).message}`);
  }
  try {
    const buf = Buffer.alloc(4096);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    const head = buf
      .subarray(0, bytesRead)
      .toString("utf8")
      .replace(/^\uFEFF/, "")
      .trimStart()
      .charAt(0);
    return head === "[" ? "array" : "lines";
  } finally {
    await fh.close();
  }
}

function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** The line of the first array element that does not parse on its own (engines without positions). */
function firstBadElementLine(text: string): number {
  const spans = topLevelElements(text);
  for (const s of spans) {
    try {
      JSON.parse(text.slice(s.start, s.end));
    } catch {
      return s.line;
    }
  }
  return spans.length > 0 ? spans[spans.length - 1].line : 1;
}

/** Line numbers where each element of a top-level JSON array begins. */
function topLevelElementLines(text: string): number[] {
  return topLevelElements(text).map((s) => s.line);
}

/** Start line and [start, end) offsets of each element of a top-level JSON array. */
function topLevelElements(text: string): Array<{ line: number; start: number; end: number }> {
  const spans: Array<{ line: number; start: number; end: number }> = [];
  const close = (i: number) => {
    const last = spans[spans.length - 1];
    if (last && last.end < 0) last.end = i;
  };
  let line = 1;
  let depth = 0;
  let inString = false;
  let expectElement = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "\n") line++;
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === " " || c === "\t" || c === "\r" || c === "\n") continue;
    if (depth === 1 && expectElement && c !== "]") {
      spans.push({ line, start: i, end: -1 });
      expectElement = false;
    }
    if (c === '"') inString = true;
    else if (c === "[" || c === "{") {
      depth++;
      if (depth === 1) expectElement = true;
    } else if (c === "]" || c === "}") {
      depth--;
      if (depth === 0) close(i);
    } else if (c === "," && depth === 1) {
      close(i);
      expectElement = true;
    }
  }
  close(text.length);
  return spans;
}
