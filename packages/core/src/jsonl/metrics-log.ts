import { appendFile, mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { writeFileAtomic } from "../fs/atomic.js";
import { describeIssue, RecordError } from "./errors.js";

/** One row of a metrics log: the optimizer step and the scalar figures logged at it. */
export type MetricsRow = { step: number } & Record<string, number | string | boolean | null>;

/** A metrics row as read back: an object with a non-negative integer `step`. */
export const MetricsRowSchema = z.object({ step: z.number().int().nonnegative() }).passthrough();

/** Options of `MetricsLog.open`. */
export interface MetricsLogOptions {
  /**
   * Continue a run whose last checkpoint is at this step: rows up to it are kept, later rows (steps
   * that will run again) are dropped. Absent: the log starts empty.
   */
  resumeFrom?: number;
}

/**
 * A training log, one JSON line a step (`logs/<stage>.jsonl`). A crash mid-append leaves a torn last
 * line: reading and resuming drop it. A garbled line anywhere else is an error naming file and line.
 */
export class MetricsLog<R extends MetricsRow = MetricsRow> {
  private constructor(readonly file: string) {}

  /** Returns a log on `file`, started empty or, with `resumeFrom`, cut back to the rows up to that step. */
  static async open<R extends MetricsRow = MetricsRow>(
    file: string,
    options: MetricsLogOptions = {},
  ): Promise<MetricsLog<R>> {
    await mkdir(path.dirname(path.resolve(file)), { recursive: true });
    const { resumeFrom } = options;
    if (resumeFrom === undefined) {
      await writeFile(file, "");
    } else {
      if (!Number.isInteger(resumeFrom) || resumeFrom < 0)
        throw new RangeError(`MetricsLog.open: resumeFrom must be a non-negative integer, got ${resumeFrom}`);
      const kept = (await MetricsLog.read<R>(file)).filter((row) => row.step <= resumeFrom);
      // Rewritten whole and renamed into place, so a crash here cannot lose the rows kept.
      await writeFileAtomic(file, kept.map((row) => `${JSON.stringify(row)}\n`).join(""));
    }
    return new MetricsLog<R>(file);
  }

  /** Returns the rows of a log file in order (none when it does not exist), without a torn last line. */
  static async read<R extends MetricsRow = MetricsRow>(file: string): Promise<R[]> {
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw err;
    }
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    const lines = text.split("\n");
    // The text after the last newline is a line whose append did not finish.
    const complete = lines.slice(0, -1);
    const tail = lines[lines.length - 1] ?? "";
    const rows: R[] = [];
    complete.forEach((raw, i) => {
      const row = parseRow<R>(raw.endsWith("\r") ? raw.slice(0, -1) : raw, file, i + 1);
      if (row) rows.push(row);
    });
    if (tail.trim() !== "") {
      try {
        const row = parseRow<R>(tail, file, lines.length);
        if (row) rows.push(row);
      } catch {
        // a torn last line: the step it logged runs again after the resume
      }
    }
    return rows;
  }

  /** Appends one row as a line. */
  async append(row: R): Promise<void> {
    await appendFile(this.file, `${JSON.stringify(row)}\n`);
  }
}

/** Returns the row of one line (undefined for a blank one), or throws a `RecordError` naming the line. */
function parseRow<R>(text: string, file: string, line: number): R | undefined {
  if (text.trim() === "") return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new RecordError(file, line, `invalid JSON: ${(err as Error).message}`);
  }
  const parsed = MetricsRowSchema.safeParse(value);
  if (!parsed.success) {
    const { field, detail } = describeIssue(parsed.error, value);
    throw new RecordError(file, line, detail, field);
  }
  return parsed.data as R;
}
