import { existsSync } from "node:fs";
import { appendFile, mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { type ZodType, z } from "zod";
import { writeFileAtomic } from "../fs/atomic.js";
import { readJsonl } from "./reader.js";

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
    if (!existsSync(file)) return [];
    // streamed line by line: a long run's log is never held as one string
    const rows: R[] = [];
    for await (const row of readJsonl<R>(file, {
      schema: MetricsRowSchema as unknown as ZodType<R>,
      tornLast: "skip",
    }))
      rows.push(row);
    return rows;
  }

  /** Appends one row as a line. */
  async append(row: R): Promise<void> {
    await appendFile(this.file, `${JSON.stringify(row)}\n`);
  }
}
