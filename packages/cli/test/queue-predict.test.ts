// `sr2se predict --queue` with real `sr2se worker` processes on a real Redis: the merged output is
// the file a local run writes, a worker killed mid-chunk loses and duplicates nothing (BullMQ's
// stalled-job recovery), a worker refuses another checkpoint, and the queue's password is never printed.
import { spawn } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { restartableRedis, type TestRedis, testRedis } from "../../../test-support/redis.js";
import { type PredictJobArgs, predictJob } from "../src/queue/predict-job.js";
import { bin, sr2seAsync } from "./cli.js";
import { EXISTENCE_WORLD, TINY_SFT } from "./tiny-vlm.js";
import { startWorker, type WorkerProcess, waitFor } from "./workers.js";

const redis: TestRedis | null = await testRedis(1);

describe.skipIf(!redis)("sr2se predict --queue with sr2se workers", () => {
  const url = redis?.url ?? "";
  const dir = mkdtempSync(path.join(tmpdir(), "sr2se-queue-"));
  const questions = path.join(dir, "data", "test.jsonl");
  const sft = path.join(dir, "sft");
  const local = path.join(dir, "local.pred.jsonl");
  const workers: WorkerProcess[] = [];
  const predict = (out: string, ...extra: string[]) =>
    sr2seAsync(["predict", "--ckpt", sft, "--data", questions, "--out", out, "--max-tokens", "12", ...extra]);

  beforeAll(async () => {
    writeFileSync(path.join(dir, "world.json"), JSON.stringify(EXISTENCE_WORLD));
    const synth = await sr2seAsync([
      ...["data", "synth", "--out", path.join(dir, "data"), "--train", "16", "--val", "2", "--test", "24"],
      ...["--seed", "5", "--config", path.join(dir, "world.json")],
    ]);
    expect(synth.status, synth.stderr).toBe(0);
    writeFileSync(
      path.join(dir, "tiny.json"),
      JSON.stringify({ ...TINY_SFT, training: { ...TINY_SFT.training, steps: 2 } }),
    );
    const train = await sr2seAsync([
      ...["train", "sft", "--data", path.join(dir, "data"), "--out", sft],
      ...["--config", path.join(dir, "tiny.json")],
    ]);
    expect(train.status, train.stderr).toBe(0);
    const run = await predict(local);
    expect(run.status, run.stderr).toBe(0);
  });

  afterAll(async () => {
    for (const w of workers) w.child.kill("SIGKILL");
    await redis?.stop();
  });

  it("three workers write the file a local run writes, in the same order", async () => {
    workers.push(...(await Promise.all([startWorker(url), startWorker(url), startWorker(url)])));
    const out = path.join(dir, "queued.pred.jsonl");
    const run = await predict(out, "--queue", url, "--chunk-size", "3");
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ written: 24, skipped: 0 });
    expect(readFileSync(out, "utf8")).toBe(readFileSync(local, "utf8"));
    // more than one worker took part
    expect(workers.filter((w) => /done/.test(w.log.stderr)).length).toBeGreaterThan(1);
    const rerun = await predict(out, "--queue", url, "--chunk-size", "3");
    expect(JSON.parse(rerun.stdout)).toMatchObject({ written: 0, skipped: 24 });
    for (const w of workers.splice(0)) {
      w.child.kill("SIGTERM");
      expect(await w.exited).toBe(0);
    }
  });

  it("a worker SIGKILLed mid-chunk loses nothing and duplicates nothing", async () => {
    const out = path.join(dir, "killed.pred.jsonl");
    // the chunks wait on the queue; the first worker dies inside its first job (loading the checkpoint)
    const run = predict(out, "--queue", url, "--chunk-size", "4");
    const doomed = await startWorker(url);
    const [, jobId] = await waitFor(doomed.log, /job (\S+) \(predict\) started/);
    doomed.child.kill("SIGKILL");
    await doomed.exited;
    workers.push(await startWorker(url), await startWorker(url));
    const result = await run;
    expect(result.status, result.stderr).toBe(0);
    const lines = readFileSync(out, "utf8").trim().split("\n");
    const ids = lines.map((l) => JSON.parse(l).id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(readFileSync(out, "utf8")).toBe(readFileSync(local, "utf8"));
    // the dead worker's chunk was taken up by another worker
    expect(workers.some((w) => w.log.stderr.includes(`job ${jobId} (predict) done`))).toBe(true);
  });

  it("Redis restarted mid-run: the command and the workers reconnect and finish, nothing lost or twice", async () => {
    const server = await restartableRedis(mkdtempSync(path.join(tmpdir(), "sr2se-redis-aof-")));
    if (!server) return;
    const own: WorkerProcess[] = [];
    try {
      own.push(await startWorker(server.url), await startWorker(server.url));
      const out = path.join(dir, "restart.pred.jsonl");
      const run = predict(out, "--queue", server.url, "--chunk-size", "2");
      let finished = false;
      void run.then(() => (finished = true));
      // down while chunks are queued and under way
      await waitFor(own[0].log, /job \S+ \(predict\) started/);
      expect(finished).toBe(false);
      await server.restart(1500);
      const result = await run;
      expect(result.status, result.stderr).toBe(0);
      const ids = readFileSync(out, "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l).id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(readFileSync(out, "utf8")).toBe(readFileSync(local, "utf8"));
    } finally {
      for (const w of own) w.child.kill("SIGKILL");
      await server.stop();
    }
  }, 120_000);

  it("a worker refuses a job made with another checkpoint, naming both hashes", async () => {
    const other = path.join(dir, "other-sft");
    cpSync(sft, other, { recursive: true });
    const args: PredictJobArgs = {
      ckpt: other,
      ckptHash: "0".repeat(64),
      source: questions,
      sampling: { maxTokens: 4, temperature: 0, seed: 0, batchSize: 4 },
      questions: [{ id: "q1", image: path.join(dir, "none.png"), question: "Is there a circle?", line: 1 }],
    };
    await expect(predictJob.run(args, { id: "t", attempt: 1, progress: async () => {} })).rejects.toThrow(
      /not the one the job was made with \(sha256 [0-9a-f]{12}… here, 000000000000… in the job\)/,
    );
  });

  it("a worker stopped the moment it says ready still stops cleanly", async () => {
    // the supervisor's SIGTERM may arrive before the worker's next line of JavaScript runs
    const codes = await Promise.all(
      [0, 1, 2].map(
        () =>
          new Promise<number | null>((resolve) => {
            const child = spawn(process.execPath, [bin, "worker", "--redis", url]);
            child.stdout?.on("data", (d) => String(d).includes('"ready":true') && child.kill("SIGTERM"));
            child.on("exit", (code) => resolve(code));
          }),
      ),
    );
    expect(codes).toEqual([0, 0, 0]);
  });

  it("never prints the queue's password, and stops cleanly on SIGTERM", async () => {
    const secret = "s3cr3t-pw";
    const withPassword = url.replace("redis://", `redis://:${secret}@`);
    // this Redis has no password: the client says so, and the worker still comes up
    const w = await startWorker(withPassword).catch((err: Error) => ({ error: err.message }));
    if ("error" in w) {
      expect(w.error).not.toContain(secret);
      return;
    }
    expect(w.log.stderr).toContain(":***@");
    w.child.kill("SIGTERM");
    expect(await w.exited).toBe(0);
    expect(w.log.stderr).not.toContain(secret);
  });
});
