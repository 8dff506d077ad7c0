// `sr2se eval score --queue` with a judge and real `sr2se worker` processes on a real Redis: the
// result file is a local run's, each judgment is asked once, a rerun asks nothing, and a worker
// refuses a judge endpoint it was not given (it would send its API key there).
import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestRedis, testRedis } from "../../../test-support/redis.js";
import { bin, sr2seAsync } from "./cli.js";
import { type StubEndpoint, stubEndpoint } from "./stub-endpoint.js";

const redis: TestRedis | null = await testRedis(3);

describe.skipIf(!redis)("sr2se eval score --queue with sr2se workers", () => {
  const url = redis?.url ?? "";
  const dir = mkdtempSync(path.join(tmpdir(), "sr2se-queue-eval-"));
  const bench = path.join(dir, "bench");
  const pred = path.join(dir, "mmvet-pred.jsonl");
  const asked = new Map<string, number>();
  const workers: ChildProcess[] = [];
  let server: StubEndpoint;
  let judge = "";

  /** Starts `sr2se worker` allowed to call `endpoints`; resolves once it is ready. */
  const startWorker = (endpoints: string[]) =>
    new Promise<{ child: ChildProcess; log: { stderr: string } }>((resolve, reject) => {
      const child = spawn(process.execPath, [
        ...[bin, "worker", "--redis", url, "--lock-duration", "2000", "--stalled-interval", "1000"],
        ...(endpoints.length ? ["--endpoint", ...endpoints] : []),
      ]);
      const log = { stderr: "" };
      child.stderr?.on("data", (d) => (log.stderr += d));
      child.stdout?.on("data", (d) => String(d).includes('"ready":true') && resolve({ child, log }));
      child.on("exit", (code) => reject(new Error(`worker exited (${code}):\n${log.stderr}`)));
      workers.push(child);
    });
  const score = (out: string, ...extra: string[]) =>
    sr2seAsync([
      ...["eval", "score", "--bench", "mmvet", "--data", path.join(bench, "mmvet.jsonl"), "--pred", pred],
      ...["--judge", judge, "--judge-model", "judge", "--out", out, ...extra],
    ]);

  beforeAll(async () => {
    server = await stubEndpoint((body) => {
      const key = createHash("sha256").update(body).digest("hex");
      asked.set(key, (asked.get(key) ?? 0) + 1);
      // a grade that depends on the prompt, so that a judgment put on the wrong sample shows
      return { content: ((Number.parseInt(key.slice(0, 2), 16) % 11) / 10).toFixed(1), delayMs: 20 };
    }, "judge");
    judge = server.url;
    const made = await sr2seAsync([
      ...["data", "bench", "--out", bench],
      ...["--pope", "2", "--mmmu", "2", "--mathvista", "2", "--mmvet", "40"],
    ]);
    expect(made.status, made.stderr).toBe(0);
    const lines = readFileSync(path.join(bench, "mmvet.jsonl"), "utf8").trim().split("\n");
    writeFileSync(
      pred,
      lines
        .map(
          (l, i) =>
            `${JSON.stringify({ id: JSON.parse(l).id, response: ["a red circle", "3", "yes"][i % 3] })}\n`,
        )
        .join(""),
    );
  });

  afterAll(async () => {
    for (const w of workers) w.kill("SIGKILL");
    await server.close();
    await redis?.stop();
  });

  it("two workers fill the cache; the result file is a local run's and each judgment is asked once", async () => {
    const localOut = path.join(dir, "local", "mmvet.json");
    const local = await score(localOut);
    expect(local.status, local.stderr).toBe(0);
    const localAsks = [...asked.values()].reduce((a, n) => a + n, 0);
    asked.clear();

    await Promise.all([startWorker([judge]), startWorker([`${judge}/`])]);
    const out = path.join(dir, "queued", "mmvet.json");
    const queued = await score(out, "--queue", url, "--chunk-size", "4");
    expect(queued.status, queued.stderr).toBe(0);
    expect(queued.stderr).toContain("40 samples judged by the workers, 0 already in the cache");
    expect(readFileSync(out, "utf8")).toBe(readFileSync(localOut, "utf8"));
    // the workers asked what the local run asked, once each; the scoring after them asked nothing
    expect([...asked.values()].reduce((a, n) => a + n, 0)).toBe(localAsks);
    expect([...asked.values()].every((n) => n === 1)).toBe(true);

    asked.clear();
    const rerun = await score(out, "--queue", url, "--chunk-size", "4");
    expect(rerun.status, rerun.stderr).toBe(0);
    expect(rerun.stderr).toContain("0 samples judged by the workers, 40 already in the cache");
    expect(asked.size).toBe(0);
  }, 120_000);

  it("a worker refuses a judge endpoint it was not given, naming it", async () => {
    for (const w of workers.splice(0)) w.kill("SIGKILL");
    await startWorker([]);
    const out = path.join(dir, "refused", "mmvet.json");
    const r = await score(out, "--queue", url, "--chunk-size", "40");
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`${judge} is not an endpoint this worker may call`);
    expect(asked.size).toBe(0);
  }, 60_000);

  it("refuses --queue on a bench without a judge", async () => {
    const r = await sr2seAsync([
      ...["eval", "score", "--bench", "pope", "--data", path.join(bench, "pope_random.jsonl")],
      ...["--pred", pred, "--queue", url],
    ]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("--queue sends judge calls to workers: it takes --bench mmvet or mathvista");
  });
});
