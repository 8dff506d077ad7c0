// `sr2se experiment --queue` with real `sr2se worker` processes on a real Redis: each seed's stages run
// as one job, seeds at once on different workers; a worker SIGKILLed in the middle of a seed's SFT is
// replaced through BullMQ's stalled-job handling, and the next worker resumes the SFT from its
// checkpoint, ending on the model an uninterrupted local run trains, bit for bit.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type TestRedis, testRedis } from "../../../test-support/redis.js";
import { experimentSeedJob } from "../src/queue/experiment-job.js";
import { sr2seAsync } from "./cli.js";
import { EXISTENCE_WORLD, TINY_SFT } from "./tiny-vlm.js";
import { startWorker, type WorkerProcess, waitFor } from "./workers.js";

const redis: TestRedis | null = await testRedis(5);

describe.skipIf(!redis)("sr2se experiment --queue with sr2se workers", () => {
  const url = redis?.url ?? "";
  const dir = mkdtempSync(path.join(tmpdir(), "sr2se-queue-experiment-"));
  const out = path.join(dir, "exp");
  const workers: WorkerProcess[] = [];
  writeFileSync(path.join(dir, "world.json"), JSON.stringify(EXISTENCE_WORLD));
  writeFileSync(
    path.join(dir, "tiny.json"),
    JSON.stringify({
      ...TINY_SFT,
      training: { ...TINY_SFT.training, save_every: 20, vision_pretrain_steps: 20 },
    }),
  );
  const args = [
    ...["experiment", "--out", out, "--seeds", "2", "--variants", "sft"],
    ...["--train", "32", "--val", "4", "--test", "4", "--pope", "3", "--val-pope", "2"],
    ...["--mmmu", "0", "--mathvista", "0", "--mmvet", "2", "--chair", "2"],
    ...["--sft-config", path.join(dir, "tiny.json"), "--world", path.join(dir, "world.json")],
  ];
  const ledger = (f: string) => JSON.parse(readFileSync(path.join(out, f), "utf8")) as { done: object };

  afterAll(async () => {
    for (const w of workers) w.child.kill("SIGKILL");
    await redis?.stop();
  });

  it("seeds run on workers; one killed mid-SFT is taken over and resumed to the local run's model", async () => {
    workers.push(await startWorker(url), await startWorker(url));
    const run = sr2seAsync([...args, "--queue", url]);
    // the worker that started seed 1's SFT dies once the SFT has saved a checkpoint
    const sftCheckpoint = path.join(out, "seed-1", "sft", "checkpoint", "trainer_state.json");
    const started = await Promise.race(
      workers.map((w) => waitFor(w.log, /experiment seed 1 \[1\/3\] seed-1\/sft: /, 240_000).then(() => w)),
    );
    for (let t = Date.now(); !existsSync(sftCheckpoint); ) {
      if (Date.now() - t > 240_000) throw new Error(`no checkpoint at ${sftCheckpoint}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    started.child.kill("SIGKILL");
    await started.exited;
    const survivor = workers.find((w) => w !== started) as WorkerProcess;
    const r = await run;
    expect(r.status, r.stderr.slice(-3000)).toBe(0);
    // the survivor took seed 1's job over and skipped nothing it had not finished
    await waitFor(survivor.log, /experiment seed 1 \[1\/3\] seed-1\/sft: /);
    expect(r.stderr).toMatch(/seed 1: all 3 stages done/);
    expect(r.stderr).toMatch(/seed 2: all 3 stages done/);
    expect(Object.keys(ledger("experiment.json").done)).toEqual([
      "data",
      "bench/val",
      "bench/test",
      "report",
    ]);
    for (const s of [1, 2])
      expect(Object.keys(ledger(`seed-${s}/stages.json`).done)).toEqual([
        `seed-${s}/sft`,
        `seed-${s}/eval/sft/test`,
        `seed-${s}/eval/sft/val`,
      ]);
    expect(r.stdout).toContain("| Benchmark | sft |");
    expect(existsSync(path.join(out, "report.md"))).toBe(true);
    // the killed and resumed SFT ends on the weights of one trained here without interruption
    const local = path.join(dir, "local-sft-1");
    const t = await sr2seAsync([
      ...["train", "sft", "--data", path.join(out, "data"), "--out", local],
      ...["--config", path.join(out, "configs", "sft-seed-1.json")],
    ]);
    expect(t.status, t.stderr).toBe(0);
    const weights = (d: string) => readFileSync(path.join(d, "checkpoint", "model.safetensors"));
    expect(weights(path.join(out, "seed-1", "sft")).equals(weights(local))).toBe(true);
    // a rerun finds every stage done and changes nothing
    const again = await sr2seAsync([...args, "--queue", url]);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).not.toMatch(/seed \d: \d+% of its stages done/);
  }, 900_000);

  it("a worker refuses a job whose options differ from the folder's, or a folder it cannot read", async () => {
    const ctx = { id: "t", attempt: 1, progress: async () => {} };
    const own = path.join(dir, "refusals");
    mkdirSync(own, { recursive: true });
    const options = {
      ...{ seeds: 1, variants: ["sft"], seed: 1, train: 8, val: 0, test: 0, pope: 1, mmmu: 0 },
      ...{ mathvista: 0, mmvet: 0, chair: 0, valPope: 1, iprShards: 1, reference: "previous", dpoEpochs: 1 },
    };
    writeFileSync(path.join(own, "experiment.json"), JSON.stringify({ version: 1, options, done: {} }));
    const job = { out: own, seed: 1, optionsHash: "0".repeat(64), srDpoRef: null };
    await expect(experimentSeedJob.run(job, ctx)).rejects.toThrow(
      /started with other options than the job's \(sha256 [0-9a-f]{12}… here, 000000000000… in the job\)/,
    );
    await expect(experimentSeedJob.run({ ...job, out: path.join(dir, "elsewhere") }, ctx)).rejects.toThrow(
      /cannot read .*experiment\.json.*mounts at the same path/,
    );
    // options that do not validate are named by field
    writeFileSync(
      path.join(own, "experiment.json"),
      JSON.stringify({ version: 1, options: { ...options, train: -1 }, done: {} }),
    );
    await expect(experimentSeedJob.run(job, ctx)).rejects.toThrow(/field "options\.train"/);
  });
});
