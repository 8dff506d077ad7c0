import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { RecordError, readPreferencePairs } from "../src/index.js";

const good = { id: "p-1", sample_id: "s-1", prompt: "q", chosen: "a", rejected: "b" };

/** Writes `lines` as a pairs file and returns its path. */
function pairsFile(text: string): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), "sr2se-pairs-")), "pairs.jsonl");
  writeFileSync(file, text);
  return file;
}

const line = (v: unknown) => `${JSON.stringify(v)}\n`;

describe("readPreferencePairs", () => {
  it("reads a file with a BOM, CRLF and blank lines, keeping each pair's line", async () => {
    const file = pairsFile(
      `\uFEFF${JSON.stringify(good)}\r\n\r\n${JSON.stringify({ ...good, id: "p-2" })}\r\n`,
    );
    const records = await readPreferencePairs(file);
    expect(records.map((r) => [r.pair.id, r.line, r.file])).toEqual([
      ["p-1", 1, file],
      ["p-2", 3, file],
    ]);
  });

  it("keeps the meta fields IPR and SR-DPO write", async () => {
    const meta = {
      source: "ipr",
      round: 2,
      chosen_correct: true,
      ref_chosen_logps: -3.5,
      weight: 0.5,
      extra: 1,
    };
    const [{ pair }] = await readPreferencePairs(pairsFile(line({ ...good, image: "images/1.png", meta })));
    expect(pair.meta).toEqual(meta);
    expect(pair.image).toBe("images/1.png");
  });

  it("names file, line and field of a missing or mistyped field", async () => {
    const file = pairsFile(line(good) + line({ ...good, id: "p-2", chosen: undefined }));
    const err = await readPreferencePairs(file).catch((e) => e);
    expect(err).toBeInstanceOf(RecordError);
    expect(err.message).toBe(`${file}:2: field "chosen" is missing`);
    expect(err.field).toBe("chosen");
    await expect(readPreferencePairs(pairsFile(line({ ...good, rejected: 3 })))).rejects.toThrow(
      /pairs\.jsonl:1: field "rejected": expected string, got number$/,
    );
  });

  it("names the meta field of a bad reference log-prob or a negative weight", async () => {
    await expect(
      readPreferencePairs(pairsFile(line({ ...good, meta: { ref_chosen_logps: "x" } }))),
    ).rejects.toThrow(/pairs\.jsonl:1: field "meta\.ref_chosen_logps": expected number, got string$/);
    await expect(readPreferencePairs(pairsFile(line({ ...good, meta: { weight: -1 } })))).rejects.toThrow(
      /pairs\.jsonl:1: field "meta\.weight": /,
    );
  });

  it("names the line of invalid JSON", async () => {
    await expect(readPreferencePairs(pairsFile(`${line(good)}{not json\n`))).rejects.toThrow(
      /pairs\.jsonl:2: invalid JSON/,
    );
  });

  it("refuses a repeated id, naming both lines", async () => {
    const file = pairsFile(line(good) + line(good));
    await expect(readPreferencePairs(file)).rejects.toThrow(`${file}:2: id "p-1" repeats line 1`);
  });

  it("refuses a file without pairs and names a missing file", async () => {
    const file = pairsFile("\n");
    await expect(readPreferencePairs(file)).rejects.toThrow(`${file}:1: the file holds no preference pairs`);
    await expect(readPreferencePairs(`${file}.missing`)).rejects.toThrow(`${file}.missing: no such file`);
  });
});
