// Hostile JSON Lines, seeded: the streaming reader agrees line by line with a plain split-and-parse
// oracle (the same records, or a RecordError naming the same line), refuses a runaway line without
// holding it, and keeps `__proto__` keys and ids as data.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { JsonlWriter, RecordError, Rng, readJsonl, readRecords } from "../src/index.js";

const dir = mkdtempSync(path.join(tmpdir(), "sr2se-jsonl-fuzz-"));
/** Files of random lines; SR2SE_FUZZ_CASES raises them locally. */
const CASES = Number(process.env.SR2SE_FUZZ_CASES) || 1500;
const MAX = 2000;

function randomLine(rng: Rng, i: number): string {
  switch (rng.int(0, 10)) {
    case 0:
      return "";
    case 1:
      return `{"id":"${i}","a":`; // broken JSON
    case 2:
      return `${"[".repeat(rng.int(1, 5000))}${"]".repeat(rng.int(0, 2) ? 0 : 5000)}`; // deep nesting
    case 3:
      return JSON.stringify({ id: "__proto__", __proto__: { polluted: true }, constructor: 1 });
    case 4:
      return `{"id":"${i}","x":"${"y".repeat(rng.int(MAX - 40, MAX + 40))}"}`; // around the limit
    case 5:
      return `{"id":"${i}","s":"é\\u0000\\ud800☃"}\r`;
    case 6:
      return String(rng.int(-5, 5)); // a JSON value, not an object
    default:
      return JSON.stringify({ id: `r${i}`, n: rng.float() });
  }
}

/** What the reader must do with `text`: the records in order, or the line of the first error. */
function oracle(text: string): { records: unknown[]; errorLine?: number } {
  const lines = text.split("\n");
  const last = text.endsWith("\n") ? lines.length - 1 : lines.length;
  const records: unknown[] = [];
  for (let i = 0; i < last; i++) {
    // the limit counts a line's bytes as they are in the file (a BOM and a CR included)
    if (Buffer.byteLength(lines[i] as string) > MAX) return { records, errorLine: i + 1 };
    let line = lines[i] as string;
    if (i === 0 && line.charCodeAt(0) === 0xfeff) line = line.slice(1);
    if (line.endsWith("\r")) line = line.slice(0, -1);
    if (line.trim() === "") continue;
    try {
      records.push(JSON.parse(line));
    } catch {
      return { records, errorLine: i + 1 };
    }
  }
  return { records };
}

describe("JSONL fuzz", () => {
  it(`agrees with split-and-parse on ${CASES} files of random hostile lines`, async () => {
    const rng = new Rng("jsonl");
    let errors = 0;
    for (let c = 0; c < CASES; c++) {
      const n = rng.int(1, 8);
      let text = Array.from({ length: n }, (_, i) => randomLine(rng, i)).join("\n");
      if (rng.int(0, 4) > 0) text += "\n";
      if (rng.int(0, 8) === 0) text = `\ufeff${text}`;
      const f = path.join(dir, `case-${c % 16}.jsonl`);
      writeFileSync(f, text);
      const want = oracle(text);
      const got: unknown[] = [];
      let errorLine: number | undefined;
      try {
        for await (const r of readJsonl(f, { maxLineBytes: MAX })) got.push(r);
      } catch (err) {
        expect(err, String(err)).toBeInstanceOf(RecordError);
        expect((err as Error).message.startsWith(`${f}:${(err as RecordError).line}: `)).toBe(true);
        errorLine = (err as RecordError).line;
        errors++;
      }
      expect(errorLine, text.slice(0, 300)).toBe(want.errorLine);
      expect(got).toEqual(want.records);
    }
    expect(errors).toBeGreaterThan(CASES / 10);
  });

  it("refuses a 64 MB line with a limit of 1 MB, naming the line, without holding it", async () => {
    const f = path.join(dir, "huge.jsonl");
    const huge = `{"id":"2","x":"${"z".repeat(64 * 1024 * 1024)}"}`;
    writeFileSync(f, `{"id":"1"}\n${huge}\n{"id":"3"}\n`);
    const before = process.memoryUsage().arrayBuffers;
    const reader = readJsonl<{ id: string }>(f, { maxLineBytes: 1 << 20, lenient: true });
    const ids: string[] = [];
    let peak = 0;
    for await (const r of reader) {
      ids.push(r.id);
      peak = Math.max(peak, process.memoryUsage().arrayBuffers - before);
    }
    expect(ids).toEqual(["1", "3"]);
    expect(reader.skipped.map((s) => s.message)).toEqual([
      `${f}:2: line is longer than 1048576 bytes (the limit of a record)`,
    ]);
    // (process-wide, so other test files count too: a held line alone would be 64 MB)
    expect(peak).toBeLessThan(48 * 1024 * 1024);
    await expect(async () => {
      for await (const _ of readJsonl(f, { maxLineBytes: 1 << 20 }));
    }).rejects.toThrow(`${f}:2: line is longer than 1048576 bytes`);
  });

  it("keeps a record whose id and keys are __proto__ as data, and resumes it", async () => {
    const f = path.join(dir, "proto.jsonl");
    const w = await JsonlWriter.open<Record<string, unknown>>(f);
    await w.append(JSON.parse('{"id":"__proto__","__proto__":{"polluted":1}}'));
    await w.close();
    const again = await JsonlWriter.open<Record<string, unknown>>(f);
    expect(again.has("__proto__")).toBe(true);
    expect(await again.append({ id: "__proto__" })).toBe(false);
    await again.close();
    const recs: Record<string, unknown>[] = [];
    for await (const r of readJsonl<Record<string, unknown>>(f)) recs.push(r);
    const [rec] = recs;
    expect(Object.hasOwn(rec as object, "__proto__")).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("refuses a JSON array file too large to read whole, naming the file and the way out", async () => {
    const f = path.join(dir, "big.json");
    writeFileSync(
      f,
      JSON.stringify(Array.from({ length: 200 }, (_, i) => ({ id: `r${i}`, x: "y".repeat(50) }))),
    );
    await expect(readRecords(f, { maxJsonBytes: 4096 })).rejects.toThrow(
      new RegExp(
        `^${f.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:1: a JSON array of \\d+ bytes is over the 4096 bytes read whole; write the records as JSON Lines`,
      ),
    );
    expect((await readRecords(f)).records).toHaveLength(200);
  });
});
