import { createWriteStream, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { RecordError, readJsonl, readRecords, recordsLayout, SampleSchema } from "../src/index.js";

const dir = mkdtempSync(path.join(tmpdir(), "sr2se-core-"));
function file(name: string, text: string): string {
  const f = path.join(dir, name);
  writeFileSync(f, text);
  return f;
}
async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}
const good = (id: string) => JSON.stringify({ id, image: "a.png", question: "q?", answer: "yes" });

describe("readJsonl", () => {
  it("reads records, skipping blank lines and accepting CRLF", async () => {
    const f = file("crlf.jsonl", `${good("a")}\r\n\r\n${good("b")}\r\n   \n${good("c")}\n`);
    const recs = await collect(readJsonl<{ id: string }>(f, { schema: SampleSchema }));
    expect(recs.map((r) => r.id)).toEqual(["a", "b", "c"]);
  });

  it("strips a UTF-8 byte-order mark", async () => {
    const f = file("bom.jsonl", `\uFEFF${good("a")}\n${good("b")}\n`);
    const recs = await collect(readJsonl<{ id: string }>(f, { schema: SampleSchema }));
    expect(recs.map((r) => r.id)).toEqual(["a", "b"]);
  });

  it("names file and line for malformed JSON", async () => {
    const f = file("bad.jsonl", `${good("a")}\n{"id": "b", oops}\n${good("c")}\n`);
    await expect(collect(readJsonl(f))).rejects.toThrow(`${f}:2: invalid JSON`);
  });

  it("names the missing field", async () => {
    const f = file(
      "missing.jsonl",
      `${good("a")}\n${good("b")}\n{"id":"c","image":"x.png","question":"q"}\n`,
    );
    const err = await collect(readJsonl(f, { schema: SampleSchema })).catch((e) => e);
    expect(err).toBeInstanceOf(RecordError);
    expect(err.message).toBe(`${f}:3: field "answer" is missing`);
    expect(err.line).toBe(3);
    expect(err.field).toBe("answer");
  });

  it("names a field of the wrong type", async () => {
    const f = file(
      "type.jsonl",
      `{"id":"a","image":"x.png","question":"q","answer":"1","difficulty":"hard"}\n`,
    );
    await expect(collect(readJsonl(f, { schema: SampleSchema }))).rejects.toThrow(
      `${f}:1: field "difficulty": expected number, got string`,
    );
  });

  it("gives seed records without an id one from their line when asked", async () => {
    const f = file(
      "seed.jsonl",
      `{"image":"a.png","question":"q","answer":"1"}\n\n{"id":"own","image":"b.png","question":"q","answer":"2"}\n`,
    );
    const recs = await collect(
      readJsonl<{ id: string }>(f, { schema: SampleSchema, defaultId: (l) => `line-${l}` }),
    );
    expect(recs.map((r) => r.id)).toEqual(["line-1", "own"]);
    await expect(collect(readJsonl(f, { schema: SampleSchema }))).rejects.toThrow(
      `${f}:1: field "id" is missing`,
    );
  });

  it("reports a truncated last line", async () => {
    const f = file("torn.jsonl", `${good("a")}\n{"id":"b","ima`);
    await expect(collect(readJsonl(f))).rejects.toThrow(`${f}:2: truncated last line`);
  });

  it('drops a torn last line under tornLast "skip", naming its line and the bytes before it', async () => {
    const head = `${good("a")}\r\n${good("é")}\n`;
    const f = file("torn-skip.jsonl", `${head}{"id":"b","ima`);
    const reader = readJsonl<{ id: string }>(f, { tornLast: "skip" });
    expect((await collect(reader)).map((r) => r.id)).toEqual(["a", "é"]);
    expect(reader.tornLine).toBe(3);
    expect(reader.completeBytes).toBe(Buffer.byteLength(head));
    // across the stream's 64 KiB chunks
    const big = Array.from({ length: 5 }, (_, i) =>
      JSON.stringify({ id: `r${i}`, pad: "x".repeat(40_000) }),
    ).join("\n");
    const h = file("torn-big.jsonl", `${big}\n{"id":"r5","pad":"xx`);
    const bigReader = readJsonl(h, { tornLast: "skip" });
    expect(await collect(bigReader)).toHaveLength(5);
    expect(bigReader.completeBytes).toBe(Buffer.byteLength(big) + 1);
    // a garbled line that is not the last one is still an error
    const g = file("garbled-mid.jsonl", `${good("a")}\n{"id":\n${good("c")}\n`);
    await expect(collect(readJsonl(g, { tornLast: "skip" }))).rejects.toThrow(`${g}:2: invalid JSON`);
  });

  it("accepts a valid last line without a newline", async () => {
    const f = file("nonl.jsonl", `${good("a")}\n${good("b")}`);
    expect((await collect(readJsonl(f))).length).toBe(2);
  });

  it("lenient mode skips bad lines and lists which and why", async () => {
    const f = file(
      "lenient.jsonl",
      `${good("a")}\nnot json\n{"id":"c","image":"x.png","question":"q"}\n${good("d")}\n{"id":"e","image":"x.png","question":"q","answer":5}\n`,
    );
    const reader = readJsonl<{ id: string }>(f, { schema: SampleSchema, lenient: true });
    const recs = await collect(reader);
    expect(recs.map((r) => r.id)).toEqual(["a", "d"]);
    expect(reader.skipped.map((s) => s.line)).toEqual([2, 3, 5]);
    expect(reader.skipped[1].message).toBe(`${f}:3: field "answer" is missing`);
    expect(reader.skipped[2].message).toBe(`${f}:5: field "answer": expected string, got number`);
    expect(reader.lineOf(recs[1])).toBe(4);
  });

  it("reads 1,000,000 lines with flat memory", async () => {
    const f = path.join(dir, "big.jsonl");
    await new Promise<void>((resolve, reject) => {
      const out = createWriteStream(f);
      out.on("error", reject);
      let i = 0;
      const write = () => {
        let ok = true;
        while (i < 1_000_000 && ok) {
          ok = out.write(`{"id":"s-${i}","image":"i.png","question":"How many?","answer":"${i % 9}"}\n`);
          i++;
        }
        if (i < 1_000_000) out.once("drain", write);
        else out.end(resolve);
      };
      write();
    });
    global.gc?.();
    const before = process.memoryUsage().heapUsed;
    let count = 0;
    let peak = 0;
    let sum = 0;
    for await (const rec of readJsonl<{ answer: string }>(f)) {
      count++;
      sum += Number(rec.answer);
      if (count % 50_000 === 0) peak = Math.max(peak, process.memoryUsage().heapUsed - before);
    }
    expect(count).toBe(1_000_000);
    expect(sum).toBe(3_999_996);
    // The file is ~75 MB; holding its records would take several hundred MB of heap.
    expect(peak).toBeLessThan(64 * 1024 * 1024);
  }, 120_000);
});

describe("readRecords", () => {
  it("reads a JSON array with each record's line", async () => {
    const f = file(
      "arr.json",
      `[\n  {"id":"a","image":"x.png","question":"q","answer":"1"},\n  {"id":"b","image":"x.png","question":"q",\n   "answer":"2"}\n]\n`,
    );
    const { records, lines } = await readRecords<{ id: string }>(f, { schema: SampleSchema });
    expect(records.map((r) => r.id)).toEqual(["a", "b"]);
    expect(lines).toEqual([2, 3]);
  });

  it("names the line of a bad element in a JSON array", async () => {
    const f = file(
      "arr-bad.json",
      `[\n{"id":"a","image":"x.png","question":"q","answer":"1"},\n{"id":"b","image":"x.png"}\n]`,
    );
    await expect(readRecords(f, { schema: SampleSchema })).rejects.toThrow(
      `${f}:3: field "question" is missing`,
    );
  });

  it("reads JSONL when the file is not an array", async () => {
    const f = file("rec.jsonl", `${good("a")}\n${good("b")}\n`);
    const { records, lines } = await readRecords<{ id: string }>(f);
    expect(records.length).toBe(2);
    expect(lines).toEqual([1, 2]);
  });

  it("reports the line of a JSON syntax error in an array file", async () => {
    const f = file("arr-syntax.json", `[\n{"id":"a"},\n{"id": }\n]`);
    await expect(readRecords(f)).rejects.toThrow(/arr-syntax\.json:3: invalid JSON/);
  });
});

describe("recordsLayout", () => {
  it("tells a JSON array from JSON Lines by the first non-blank character, past a BOM", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "sr2se-layout-"));
    const array = path.join(dir, "a.json");
    const lines = path.join(dir, "b.jsonl");
    writeFileSync(array, '\uFEFF\n  [{"id":"a"}]');
    writeFileSync(lines, '{"id":"a"}\n');
    expect(await recordsLayout(array)).toBe("array");
    expect(await recordsLayout(lines)).toBe("lines");
    await expect(recordsLayout(path.join(dir, "none.jsonl"))).rejects.toThrow(
      `${path.join(dir, "none.jsonl")}: no such file`,
    );
  });
});
