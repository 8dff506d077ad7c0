import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { MetricsLog, RecordError } from "../src/index.js";

const tmp = () => mkdtempSync(path.join(tmpdir(), "sr2se-metrics-"));
const lines = (file: string) => readFileSync(file, "utf8");

describe("MetricsLog", () => {
  it("starts empty without resumeFrom and appends one line a row", async () => {
    const file = path.join(tmp(), "logs", "sft.jsonl");
    const log = await MetricsLog.open(file);
    await log.append({ step: 1, loss: 2.5 });
    await log.append({ step: 2, loss: 2.25, guard: true });
    expect(lines(file)).toBe('{"step":1,"loss":2.5}\n{"step":2,"loss":2.25,"guard":true}\n');
    const again = await MetricsLog.open(file);
    expect(again.file).toBe(file);
    expect(lines(file)).toBe("");
  });

  it("on resume keeps the rows up to the checkpoint's step and drops later ones", async () => {
    const file = path.join(tmp(), "log.jsonl");
    writeFileSync(file, '{"step":1,"loss":3}\n{"step":2,"loss":2}\n{"step":3,"loss":1}\n');
    const log = await MetricsLog.open(file, { resumeFrom: 2 });
    await log.append({ step: 3, loss: 0.5 });
    expect((await MetricsLog.read(file)).map((r) => [r.step, r.loss])).toEqual([
      [1, 3],
      [2, 2],
      [3, 0.5],
    ]);
  });

  it("drops a torn last line on resume instead of failing", async () => {
    const file = path.join(tmp(), "log.jsonl");
    writeFileSync(file, '{"step":1,"loss":3}\n{"step":2,"loss":2}\n{"step":3,"lo');
    const log = await MetricsLog.open(file, { resumeFrom: 5 });
    await log.append({ step: 3, loss: 1 });
    expect(lines(file)).toBe('{"step":1,"loss":3}\n{"step":2,"loss":2}\n{"step":3,"loss":1}\n');
  });

  it("keeps a whole last row whose newline was not written, and ends it with one", async () => {
    const file = path.join(tmp(), "log.jsonl");
    writeFileSync(file, '{"step":1,"loss":3}\n{"step":2,"loss":2}');
    const log = await MetricsLog.open(file, { resumeFrom: 2 });
    await log.append({ step: 3, loss: 1 });
    expect(lines(file)).toBe('{"step":1,"loss":3}\n{"step":2,"loss":2}\n{"step":3,"loss":1}\n');
  });

  it("reads a log that does not exist yet as no rows, and resumes it as an empty log", async () => {
    const file = path.join(tmp(), "none.jsonl");
    expect(await MetricsLog.read(file)).toEqual([]);
    await MetricsLog.open(file, { resumeFrom: 4 });
    expect(lines(file)).toBe("");
  });

  it("names file and line of a garbled line that is not the last", async () => {
    const file = path.join(tmp(), "log.jsonl");
    writeFileSync(file, '{"step":1}\n{"step":2,\n{"step":3}\n');
    const err = await MetricsLog.open(file, { resumeFrom: 3 }).catch((e) => e);
    expect(err).toBeInstanceOf(RecordError);
    expect(err.message).toMatch(
      new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:2: invalid JSON`),
    );
    expect(lines(file)).toBe('{"step":1}\n{"step":2,\n{"step":3}\n');
  });

  it("names the field of a row without a step", async () => {
    const file = path.join(tmp(), "log.jsonl");
    writeFileSync(file, '{"step":1}\n{"loss":2}\n');
    await expect(MetricsLog.read(file)).rejects.toThrow(`${file}:2: field "step" is missing`);
    writeFileSync(file, '{"step":1}\n{"step":"two"}\n');
    await expect(MetricsLog.read(file)).rejects.toThrow(
      `${file}:2: field "step": expected number, got string`,
    );
  });

  it("refuses a resume step that is not a non-negative integer", async () => {
    const file = path.join(tmp(), "log.jsonl");
    await expect(MetricsLog.open(file, { resumeFrom: -1 })).rejects.toThrow(/resumeFrom/);
  });
});
