import { readFile } from "node:fs/promises";

/** A preference pair in the JSONL format of DESIGN.md (IPR output, SR-DPO input). */
export interface PreferencePair {
  id: string;
  sample_id: string;
  image?: string;
  prompt: string;
  chosen: string;
  rejected: string;
  meta?: {
    /** Reference log-probs precomputed once (TRL's column names), summed over the completion tokens. */
    ref_chosen_logps?: number;
    ref_rejected_logps?: number;
    /** SR-DPO pair weight, e.g. from `weightsFromRewardGap`. */
    weight?: number;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

/** A pair read from a file, with the line it came from. */
export interface PairRecord {
  pair: PreferencePair;
  file: string;
  line: number;
}

/** An error in a pairs file, named `file:line: message`. */
export class PairError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    message: string,
  ) {
    super(`${file}:${line}: ${message}`);
    this.name = "PairError";
  }
}

const STRING_FIELDS = ["id", "sample_id", "prompt", "chosen", "rejected"] as const;
const META_NUMBERS = ["ref_chosen_logps", "ref_rejected_logps", "weight"] as const;

/** Returns the pair parsed from one JSON line, or throws a `PairError` naming the field. */
export function parsePair(text: string, file: string, line: number): PreferencePair {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new PairError(file, line, `not valid JSON (${(e as Error).message})`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new PairError(file, line, "a preference pair must be a JSON object");
  }
  const rec = value as Record<string, unknown>;
  for (const field of STRING_FIELDS) {
    if (rec[field] === undefined) throw new PairError(file, line, `field "${field}" is missing`);
    if (typeof rec[field] !== "string") throw new PairError(file, line, `field "${field}" must be a string`);
  }
  if ((rec.id as string).length === 0) throw new PairError(file, line, `field "id" is empty`);
  if (rec.image !== undefined && typeof rec.image !== "string") {
    throw new PairError(file, line, `field "image" must be a string`);
  }
  if (rec.meta !== undefined) {
    if (rec.meta === null || typeof rec.meta !== "object" || Array.isArray(rec.meta)) {
      throw new PairError(file, line, `field "meta" must be an object`);
    }
    const meta = rec.meta as Record<string, unknown>;
    for (const field of META_NUMBERS) {
      const v = meta[field];
      if (v !== undefined && (typeof v !== "number" || !Number.isFinite(v))) {
        throw new PairError(file, line, `field "meta.${field}" must be a finite number`);
      }
    }
    if (typeof meta.weight === "number" && meta.weight < 0) {
      throw new PairError(file, line, `field "meta.weight" must be >= 0`);
    }
  }
  return rec as PreferencePair;
}

/** Returns every pair of a JSONL file (blank lines skipped, CRLF and a BOM accepted), each with its line. */
export async function readPairs(file: string): Promise<PairRecord[]> {
  const text = (await readFile(file, "utf8")).replace(/^\uFEFF/, "");
  const records: PairRecord[] = [];
  const seen = new Map<string, number>();
  text.split("\n").forEach((raw, i) => {
    const body = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (body.trim() === "") return;
    const pair = parsePair(body, file, i + 1);
    const first = seen.get(pair.id);
    if (first !== undefined) throw new PairError(file, i + 1, `id "${pair.id}" repeats line ${first}`);
    seen.set(pair.id, i + 1);
    records.push({ pair, file, line: i + 1 });
  });
  if (records.length === 0) throw new PairError(file, 1, "the file holds no preference pairs");
  return records;
}
