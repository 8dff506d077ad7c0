import { appendFile, mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";

/** One row of the training log: the step, TRL-named metrics and the trainer's own figures. */
export type MetricsRow = { step: number } & Record<string, number | string | boolean | null>;

/** Appends metrics rows to a JSONL file, one line a step. */
export class MetricsLog {
  private constructor(readonly file: string) {}

  /**
   * Returns a log on `file`. On resume (`fromStep` given) the rows after that step are dropped, so a
   * run that crashed after logging but before checkpointing does not log a step twice.
   */
  static async open(file: string, fromStep?: number): Promise<MetricsLog> {
    await mkdir(path.dirname(file), { recursive: true });
    if (fromStep === undefined) {
      await writeFile(file, "");
    } else {
      let text = "";
      try {
        text = await readFile(file, "utf8");
      } catch {
        // no log yet
      }
      const kept = text
        .split("\n")
        .filter((l) => l.trim() !== "")
        .filter((l) => {
          try {
            return (JSON.parse(l) as MetricsRow).step <= fromStep;
          } catch {
            return false; // a torn last line
          }
        });
      await writeFile(file, kept.map((l) => `${l}\n`).join(""));
    }
    return new MetricsLog(file);
  }

  /** Appends one row. */
  async append(row: MetricsRow): Promise<void> {
    await appendFile(this.file, `${JSON.stringify(row)}\n`);
  }
}
