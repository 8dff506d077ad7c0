import { constants } from "node:fs";
import { access } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import {
  DatasetPathError,
  RecordError,
  readRecords,
  resolveDatasetPath,
  type Sample,
  SampleSchema,
  type SkippedLine,
} from "@sr2se/core";
import { DEFAULT_MAX_PIXELS, ImageError, probeImage } from "../image/load.js";

/** One sample of a dataset with where it came from and its image's absolute path. */
export interface DatasetRecord {
  sample: Sample;
  /** Absolute path of the image, inside the dataset folder. */
  imagePath: string;
  /** 1-based line of the record in its file (array index + 1 for a JSON array spread on one line). */
  line: number;
}

/** A dataset read into memory, with every record that lenient mode skipped and why. */
export interface Dataset {
  file: string;
  root: string;
  records: DatasetRecord[];
  skipped: SkippedLine[];
}

/** Options of dataset reading. */
export interface ReadDatasetOptions {
  /** Skip bad records and report each in `skipped` instead of throwing (default false). */
  lenient?: boolean;
  /** Check each image exists and its header decodes within the pixel cap (default true). */
  checkImages?: boolean;
  maxPixels?: number;
  /** Image probes in flight at once (default 8). */
  concurrency?: number;
}

/** Runs `fn` over `items` with at most `limit` promises in flight, keeping the order of results. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, i: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/**
 * Reads a dataset in the seed format (a JSON array or JSON Lines of {image, question, answer, …}).
 * Strict mode throws RecordError `file:line: …` at the first bad record (bad JSON, missing field,
 * image missing/unreadable/undecodable/empty/too large, path outside the folder); lenient mode skips
 * each such record and lists it in `skipped`.
 */
export async function readDataset(file: string, options: ReadDatasetOptions = {}): Promise<Dataset> {
  const { lenient = false, checkImages = true, maxPixels = DEFAULT_MAX_PIXELS, concurrency = 8 } = options;
  const root = dirname(resolve(file));
  await access(file, constants.R_OK).catch((err: NodeJS.ErrnoException) => {
    throw new Error(
      err.code === "ENOENT"
        ? `${file}: dataset file not found`
        : `${file}: cannot read the dataset file (${err.code})`,
    );
  });
  const { records, lines, skipped } = await readRecords<Sample>(file, {
    schema: SampleSchema,
    lenient,
    // Seed files ({image, question, answer}) may carry no ids: a record is then named by its line.
    defaultId: (line) => `line-${line}`,
  });
  const imagePaths: string[] = new Array(records.length);
  const problems: (string | null)[] = await mapLimit(records, concurrency, async (sample, i) => {
    let abs: string;
    try {
      abs = resolveDatasetPath(root, sample.image);
    } catch (err) {
      if (err instanceof DatasetPathError) return `field "image": ${err.message}`;
      throw err;
    }
    imagePaths[i] = abs;
    if (!checkImages) return null;
    try {
      await probeImage(abs, maxPixels);
      return null;
    } catch (err) {
      if (err instanceof ImageError) return err.message.replace(abs, sample.image);
      throw err;
    }
  });
  const out: DatasetRecord[] = [];
  const allSkipped = [...skipped];
  for (let i = 0; i < records.length; i++) {
    const problem = problems[i];
    if (problem !== null) {
      if (!lenient) throw new RecordError(file, lines[i], problem, "image");
      allSkipped.push({ file, line: lines[i], message: `${file}:${lines[i]}: ${problem}` });
      continue;
    }
    out.push({ sample: records[i], imagePath: imagePaths[i] as string, line: lines[i] });
  }
  allSkipped.sort((a, b) => a.line - b.line);
  return { file, root, records: out, skipped: allSkipped };
}
