import type { SkippedLine } from "@sr2se/core";
import { DEFAULT_MAX_PIXELS, loadImageRgb } from "../image/load.js";
import { mapLimit, readDataset } from "./read.js";

/** The result of checking a dataset: how many records are good and every problem found. */
export interface CheckReport {
  file: string;
  records: number;
  valid: number;
  problems: SkippedLine[];
}

/**
 * Every problem of a dataset file: bad JSON, missing or ill-typed fields, duplicate ids, image paths
 * that leave the folder, and images that are missing, unreadable, empty, too large or fail to decode
 * (fully decoded, not only their header). Never throws for bad records.
 */
export async function checkDataset(
  file: string,
  options: { maxPixels?: number; concurrency?: number } = {},
): Promise<CheckReport> {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  const dataset = await readDataset(file, { lenient: true, maxPixels, concurrency: options.concurrency });
  const problems = [...dataset.skipped];
  const decoded = await mapLimit(dataset.records, options.concurrency ?? 4, async (rec) => {
    try {
      await loadImageRgb(rec.imagePath, { size: 8, maxPixels });
      return null;
    } catch (err) {
      return (err as Error).message.replace(rec.imagePath, rec.sample.image);
    }
  });
  const seen = new Map<string, number>();
  let valid = 0;
  dataset.records.forEach((rec, i) => {
    const first = seen.get(rec.sample.id);
    if (first !== undefined)
      problems.push({
        file,
        line: rec.line,
        message: `${file}:${rec.line}: duplicate id "${rec.sample.id}" (first on line ${first})`,
      });
    else seen.set(rec.sample.id, rec.line);
    const problem = decoded[i];
    if (problem) problems.push({ file, line: rec.line, message: `${file}:${rec.line}: ${problem}` });
    if (!problem && first === undefined) valid++;
  });
  problems.sort((a, b) => a.line - b.line);
  return { file, records: valid + new Set(problems.map((p) => p.line)).size, valid, problems };
}
