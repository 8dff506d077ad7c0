// The report reads training logs with core's MetricsLog: a torn last line is skipped, a garbled line
// elsewhere is an error naming file:line (not a curve silently missing steps).
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect, it } from "vitest";
import { readMetricsLog } from "../src/report/index.js";

const dir = mkdtempSync(path.join(tmpdir(), "sr2se-report-log-"));

it("skips a torn last line and names the file and line of a garbled one", async () => {
  const torn = path.join(dir, "torn.jsonl");
  writeFileSync(torn, '{"step":1,"loss":2}\n{"step":2,"loss":1.5}\n{"step":3,"lo');
  expect((await readMetricsLog(torn)).map((r) => r.step)).toEqual([1, 2]);
  const garbled = path.join(dir, "garbled.jsonl");
  writeFileSync(garbled, '{"step":1,"loss":2}\n{"step":2,"loss\u0000\n{"step":3,"loss":1}\n');
  await expect(readMetricsLog(garbled)).rejects.toThrow(`${garbled}:2: invalid JSON`);
  expect(await readMetricsLog(path.join(dir, "absent.jsonl"))).toEqual([]);
});
