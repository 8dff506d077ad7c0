import { spawn } from "node:child_process";
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { JsonlWriter } from "../src/index.js";

const dir = mkdtempSync(path.join(tmpdir(), "sr2se-writer-"));
const distIndex = path.resolve(import.meta.dirname, "../dist/index.js");

function ids(file: string): string[] {
  return readFileSync(file, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l).id);
}

describe("JsonlWriter", () => {
  it("appends records and skips ids it already holds", async () => {
    const f = path.join(dir, "a.jsonl");
    const w = await JsonlWriter.open<{ id: string }>(f, { batchSize: 2 });
    expect(await w.append({ id: "x" })).toBe(true);
    expect(await w.append({ id: "x" })).toBe(false);
    await w.append({ id: "y" });
    await w.close();
    const w2 = await JsonlWriter.open<{ id: string }>(f);
    expect(w2.has("x") && w2.has("y")).toBe(true);
    expect(await w2.append({ id: "y" })).toBe(false);
    await w2.append({ id: "z" });
    await w2.close();
    expect(ids(f)).toEqual(["x", "y", "z"]);
  });

  it("drops a torn last line on reopen so its record is written again", async () => {
    const f = path.join(dir, "torn.jsonl");
    writeFileSync(f, `{"id":"a"}\n{"id":"b"}\n`);
    appendFileSync(f, `{"id":"c","pay`);
    const w = await JsonlWriter.open<{ id: string }>(f);
    expect(w.has("c")).toBe(false);
    await w.append({ id: "c" });
    await w.close();
    expect(ids(f)).toEqual(["a", "b", "c"]);
  });

  it("uses a custom key", async () => {
    const f = path.join(dir, "key.jsonl");
    const w = await JsonlWriter.open<{ question_id: number }>(f, { key: (r) => String(r.question_id) });
    await w.append({ question_id: 1 });
    expect(w.has("1")).toBe(true);
    await w.close();
  });

  it("resumes after SIGKILL with no duplicate and no lost record", async () => {
    const f = path.join(dir, "killed.jsonl");
    const N = 20_000;
    // The child writes records 0..N-1 in order, skipping ids already held, as a resumable job does.
    const script = `
      const { JsonlWriter } = await import(${JSON.stringify(distIndex)});
      const w = await JsonlWriter.open(${JSON.stringify(f)}, { batchSize: 50 });
      for (let i = 0; i < ${N}; i++) {
        const id = "r-" + i;
        if (w.has(id)) continue;
        await w.append({ id, payload: "x".repeat(i % 97) });
        if (i === 100) process.stdout.write("started\\n");
      }
      await w.close();
      process.stdout.write("done\\n");
    `;
    const run = (killAfterStart: boolean) =>
      new Promise<string>((resolve) => {
        const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
          stdio: ["ignore", "pipe", "inherit"],
        });
        let out = "";
        child.stdout.on("data", (d) => {
          out += d;
          if (killAfterStart && out.includes("started")) setTimeout(() => child.kill("SIGKILL"), 30);
        });
        child.on("exit", (_code, signal) => resolve(signal ?? out));
      });
    expect(await run(true)).toBe("SIGKILL");
    const partial = ids(f).length;
    expect(partial).toBeLessThan(N);
    expect(await run(false)).toContain("done");
    const all = ids(f);
    expect(all.length).toBe(N);
    expect(new Set(all).size).toBe(N);
    expect(all.slice(0, 5)).toEqual(["r-0", "r-1", "r-2", "r-3", "r-4"]);
  }, 60_000);
});

describe("JsonlWriter ids", () => {
  it('resumes a file holding a record whose id is the string "undefined"', async () => {
    const f = path.join(dir, "undefined-id.jsonl");
    const w = await JsonlWriter.open<{ id: string }>(f);
    await w.append({ id: "undefined" });
    await w.append({ id: "a" });
    await w.close();
    const w2 = await JsonlWriter.open<{ id: string }>(f);
    expect(w2.has("undefined")).toBe(true);
    expect(await w2.append({ id: "undefined" })).toBe(false);
    await w2.close();
    expect(ids(f)).toEqual(["undefined", "a"]);
  });

  it('refuses a record without an id instead of keying it "undefined"', async () => {
    const f = path.join(dir, "no-id.jsonl");
    const w = await JsonlWriter.open<{ id?: string }>(f);
    await expect(w.append({})).rejects.toThrow(/no-id\.jsonl: cannot append a record: field "id" is missing/);
    await w.close();
    writeFileSync(f, `{"id":"a"}\n{"x":1}\n`);
    await expect(JsonlWriter.open(f)).rejects.toThrow(/no-id\.jsonl:2: field "id" is missing/);
  });
});
