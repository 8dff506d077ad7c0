import { createReadStream } from "node:fs";
import { StringDecoder } from "node:string_decoder";
import type { ZodType } from "zod";
import { describeIssue, RecordError, type SkippedLine } from "./errors.js";

/** Options of the JSONL readers. */
export interface ReadOptions<T> {
  /** Validate every record; violations name the field. */
  schema?: ZodType<T>;
  /** Skip bad lines instead of throwing; they are listed in `skipped`. */
  lenient?: boolean;
  /** Gives an object record without an `id` one, from its line (seed files `{image, question, answer}`). */
  defaultId?: (line: number) => string;
  /**
   * Longest line in bytes (default `MAX_LINE_BYTES`): a longer one is an error naming its line (or is
   * skipped, lenient) and is never held in memory whole.
   */
  maxLineBytes?: number;
  /** Largest JSON array file `readRecords` reads whole (default `MAX_JSON_BYTES`, 512 MiB less 1 KiB). */
  maxJsonBytes?: number;
  /**
   * A last line without a newline that does not parse (an append a crash cut short): "error" (the
   * default; skipped and listed in `skipped` when lenient) or "skip" (dropped silently, its line in
   * `tornLine`: an append-only log whose writer will write that record again).
   */
  tornLast?: "error" | "skip";
}

/** The default longest JSONL line: 64 MiB (a record with an inline image fits; a runaway line does not). */
export const MAX_LINE_BYTES = 64 * 1024 * 1024;

/** Sets `id` on an object record that lacks one, when the options ask for it. */
export function fillDefaultId(
  value: unknown,
  line: number,
  options: { defaultId?: (line: number) => string },
): void {
  if (!options.defaultId || typeof value !== "object" || value === null || Array.isArray(value)) return;
  const rec = value as Record<string, unknown>;
  if (rec.id === undefined) rec.id = options.defaultId(line);
}

/**
 * Streams the records of a JSON Lines file with constant memory. CRLF endings, a UTF-8 BOM and blank
 * lines are accepted; a line longer than `maxLineBytes` is refused without being held whole. A bad line throws `RecordError` (`file:line: …`), or is skipped and recorded in
 * `skipped` when `lenient` is set. A last line without a newline that does not parse is reported as
 * truncated.
 */
export class JsonlReader<T> implements AsyncIterable<T> {
  /** Lines skipped so far (lenient mode). */
  readonly skipped: SkippedLine[] = [];
  /** The line number of a torn last line dropped under `tornLast: "skip"`. */
  tornLine: number | undefined;
  /** Bytes up to and including the last newline read: the file's length without a torn last line. */
  completeBytes = 0;
  private readonly lines = new WeakMap<object, number>();

  constructor(
    readonly file: string,
    private readonly options: ReadOptions<T> = {},
  ) {}

  /** The 1-based line a record (object) was read from, if this reader read it. */
  lineOf(record: unknown): number | undefined {
    return typeof record === "object" && record !== null ? this.lines.get(record) : undefined;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    const max = this.options.maxLineBytes ?? MAX_LINE_BYTES;
    const stream = createReadStream(this.file, { highWaterMark: 1 << 16 });
    let lineNo = 0;
    // the current line's bytes so far; `tooLong` once it passed `max` (its bytes are then dropped)
    let parts: Buffer[] = [];
    let size = 0;
    let tooLong = false;
    const decoder = new StringDecoder("utf8");
    let offset = 0;
    const takeLine = (): string => {
      const buf = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, size);
      parts = [];
      size = 0;
      let text = decoder.write(buf) + decoder.end();
      if (text.endsWith("\r")) text = text.slice(0, -1);
      return lineNo === 1 && text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
    };
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        let start = 0;
        while (start <= chunk.length) {
          const nl = chunk.indexOf(0x0a, start);
          const end = nl === -1 ? chunk.length : nl;
          if (!tooLong && end > start) {
            size += end - start;
            if (size > max) {
              tooLong = true;
              parts = [];
            } else parts.push(chunk.subarray(start, end));
          }
          if (nl === -1) break;
          lineNo += 1;
          this.completeBytes = offset + nl + 1;
          if (tooLong) {
            tooLong = false;
            size = 0;
            this.fail(lineNo, `line is longer than ${max} bytes (the limit of a record)`);
          } else {
            const rec = this.parse(takeLine(), lineNo, false);
            if (rec !== SKIP) yield rec;
          }
          start = nl + 1;
        }
        offset += chunk.length;
      }
      // the bytes after the last newline: a last line without one (torn by a crash when it does not parse)
      if (tooLong) this.fail(lineNo + 1, `line is longer than ${max} bytes (the limit of a record)`);
      else if (size > 0) {
        lineNo += 1;
        const rec = this.parse(takeLine(), lineNo, true);
        if (rec !== SKIP) yield rec;
      }
    } finally {
      stream.destroy();
    }
  }

  private parse(text: string, line: number, isTornLast: boolean): T | typeof SKIP {
    if (text.trim() === "") return SKIP;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      if (isTornLast && this.options.tornLast === "skip") {
        this.tornLine = line;
        return SKIP;
      }
      const why = isTornLast
        ? "truncated last line (no newline at the end and not valid JSON)"
        : `invalid JSON: ${(err as Error).message}`;
      return this.fail(line, why);
    }
    fillDefaultId(value, line, this.options);
    if (this.options.schema) {
      const parsed = this.options.schema.safeParse(value);
      if (!parsed.success) {
        const { field, detail } = describeIssue(parsed.error, value);
        return this.fail(line, detail, field);
      }
      value = parsed.data;
    }
    if (typeof value === "object" && value !== null) this.lines.set(value, line);
    return value as T;
  }

  private fail(line: number, detail: string, field?: string): typeof SKIP {
    if (!this.options.lenient) throw new RecordError(this.file, line, detail, field);
    this.skipped.push({ file: this.file, line, message: `${this.file}:${line}: ${detail}` });
    return SKIP;
  }
}

const SKIP = Symbol("skip");

/** Returns a streaming reader over the records of a JSONL file. */
export function readJsonl<T = unknown>(file: string, options?: ReadOptions<T>): JsonlReader<T> {
  return new JsonlReader<T>(file, options);
}
