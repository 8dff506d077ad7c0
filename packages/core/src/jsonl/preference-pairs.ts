import { type PreferencePair, PreferencePairSchema } from "../schemas.js";
import { RecordError } from "./errors.js";
import { readJsonl } from "./reader.js";

/** A preference pair read from a file, with where it came from. */
export interface PairRecord {
  pair: PreferencePair;
  file: string;
  line: number;
}

/**
 * Returns every preference pair of a JSONL file (IPR's output, SR-DPO's input), validated, each with
 * its line. A bad pair, a repeated id or a file without pairs throws a `RecordError` naming file, line
 * and field: `pairs.jsonl:41: field "chosen" is missing`.
 */
export async function readPreferencePairs(file: string): Promise<PairRecord[]> {
  const reader = readJsonl<PreferencePair>(file, { schema: PreferencePairSchema });
  const records: PairRecord[] = [];
  const seen = new Map<string, number>();
  try {
    for await (const pair of reader) {
      const line = reader.lineOf(pair) ?? 0;
      const first = seen.get(pair.id);
      if (first !== undefined)
        throw new RecordError(file, line, `id "${pair.id}" repeats line ${first}`, "id");
      seen.set(pair.id, line);
      records.push({ pair, file, line });
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") throw new Error(`${file}: no such file`);
    throw err;
  }
  if (records.length === 0) throw new RecordError(file, 1, "the file holds no preference pairs");
  return records;
}
