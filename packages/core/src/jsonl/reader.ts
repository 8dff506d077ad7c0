import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
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
}

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
 * lines are accepted. A bad line throws `RecordError` (`file:line: …`), or is skipped and recorded in
 * `skipped` when `lenient` is set. A last line without a newline that does not parse is reported as
 * truncated.
 */
export class JsonlReader<T> implements AsyncIterable<T> {
  /** Lines skipped so far (lenient mode). */
  readonly skipped: SkippedLine[] = [];
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
    const endsWithNewline = await fileEndsWithNewline(this.file);
    const stream = createReadStream(this.file, { encoding: "utf8", highWaterMark: 1 << 16 });
    const rl = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
    let lineNo = 0;
    let pending: { text: string; line: number } | undefined;
    try {
      for await (const raw of rl) {
        if (pending) {
          const rec = this.parse(pending.text, pending.line, false);
          if (rec !== SKIP) yield rec;
        }
        lineNo += 1;
        pending = { text: lineNo === 1 && raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw, line: lineNo };
      }
      if (pending) {
        const rec = this.parse(pending.text, pending.line, !endsWithNewline);
        if (rec !== SKIP) yield rec;
      }
    } finally {
      rl.close();
      stream.destroy();
    }
  }

  private parse(text: string, line: number, isTornLast: boolean): T | typeof SKIP {
    if (text.trim() === "") return SKIP;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
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

async function fileEndsWithNewline(file: string): Promise<boolean> {
  const { open } = await import("node:fs/promises");
  const fh = await open(file, "r");
  try {
    const { size } = await fh.stat();
    if (size === 0) return true;
    const buf = Buffer.alloc(1);
    await fh.read(buf, 0, 1, size - 1);
    return buf[0] === 0x0a;
  } finally {
    await fh.close();
  }
}

/** Returns a streaming reader over the records of a JSONL file. */
export function readJsonl<T = unknown>(file: string, options?: ReadOptions<T>): JsonlReader<T> {
  return new JsonlReader<T>(file, options);
}
