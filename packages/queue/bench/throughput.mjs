// Queue throughput: chunks of records whose work is one call each to a loopback endpoint that answers
// after a fixed delay (an endpoint-bound policy or judge), with 1, 2, 4 and 8 workers; and the queue's
// own cost per record (the same run with a job that does no work). Prints a table.
//
//   npm run bench -w @sr2se/queue                 # a private redis-server (installed), or SR2SE_REDIS_URL
//   npm run bench -w @sr2se/queue -- --records 512 --delay 20 --chunk 8
//   npm run bench -w @sr2se/queue -- --processes   # each worker its own process, as `sr2se worker`s are
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Queue } from "bullmq";
import { z } from "zod";
import { defineJobKind, redisConnection, runChunks, startWorker } from "../dist/index.js";

const { values } = parseArgs({
  options: {
    records: { type: "string", default: "480" },
    delay: { type: "string", default: "20" },
    chunk: { type: "string", default: "8" },
    workers: { type: "string", default: "1,2,4,8" },
    processes: { type: "boolean", default: false },
    // internal: run as one worker process of a --processes run
    "serve-worker": { type: "string" },
    endpoint: { type: "string" },
  },
});
const RECORDS = Number(values.records);
const DELAY = Number(values.delay);
const CHUNK = Number(values.chunk);
const WORKERS = values.workers.split(",").map(Number);

async function redis() {
  if (process.env.SR2SE_REDIS_URL) return { url: process.env.SR2SE_REDIS_URL, stop: () => {} };
  if (spawnSync("redis-server", ["--version"]).status !== 0)
    throw new Error(
      "no SR2SE_REDIS_URL and no redis-server: install redis-server or point SR2SE_REDIS_URL at one",
    );
  const port = 20000 + Math.floor(Math.random() * 20000);
  const child = spawn(
    "redis-server",
    [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--dir",
      mkdtempSync(path.join(tmpdir(), "sr2se-bench-redis-")),
    ],
    { stdio: "ignore" },
  );
  const url = `redis://127.0.0.1:${port}/0`;
  for (let i = 0; i < 100; i++) {
    const q = new Queue("probe", {
      connection: { ...redisConnection(url), maxRetriesPerRequest: 1, retryStrategy: () => null },
    });
    q.on("error", () => {});
    const ok = await q.waitUntilReady().then(
      () => true,
      () => false,
    );
    await q.close().catch(() => {});
    if (ok) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, stop: () => child.kill("SIGTERM") };
}

const Args = z.object({ run: z.string(), ids: z.array(z.number()), call: z.boolean() }).strict();
/** The bench's job kind: each record one call to `endpoint` (or nothing, for the queue's own cost). */
const benchKind = (endpoint) =>
  defineJobKind({
    name: "bench-call",
    args: Args,
    async run({ ids, call }) {
      if (call) for (const _ of ids) await (await fetch(endpoint, { method: "POST", body: "x" })).text();
      return ids.length;
    },
  });

if (values["serve-worker"]) {
  // one worker process of a --processes run: up until SIGTERM
  const w = await startWorker({
    url: values["serve-worker"],
    kinds: [benchKind(values.endpoint)],
    concurrency: 1,
  });
  process.on("SIGTERM", () => void w.close().then(() => process.exit(0)));
  process.stdout.write("ready\n");
  await new Promise(() => {});
}

/** Starts a worker process on `url` and resolves once it is connected; `close()` stops it. */
function workerProcess(url, endpoint) {
  const child = spawn(
    process.execPath,
    [fileURLToPath(import.meta.url), "--serve-worker", url, "--endpoint", endpoint],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const exited = new Promise((r) => child.on("exit", r));
  return new Promise((resolve, reject) => {
    child.stdout.on("data", (d) => {
      if (String(d).includes("ready"))
        resolve({
          close: () => {
            child.kill("SIGTERM");
            return exited;
          },
        });
    });
    void exited.then((code) => reject(new Error(`a worker process exited (${code}) before it was ready`)));
  });
}

// the endpoint: answers every request after DELAY ms
const server = createServer((req, res) => {
  req.resume();
  req.on("end", () => setTimeout(() => res.end("{}"), DELAY));
});
await new Promise((r) => server.listen(0, "127.0.0.1", r));
const endpoint = `http://127.0.0.1:${server.address().port}/`;
const kind = benchKind(endpoint);

const { url, stop } = await redis();
const rows = [];
for (const call of [true, false]) {
  for (const n of WORKERS) {
    const workers = await Promise.all(
      Array.from({ length: n }, () =>
        values.processes ? workerProcess(url, endpoint) : startWorker({ url, kinds: [kind], concurrency: 1 }),
      ),
    );
    const run = `${call}-${n}-${Date.now()}`;
    const chunks = [];
    for (let s = 0; s < RECORDS; s += CHUNK)
      chunks.push({ run, ids: Array.from({ length: Math.min(CHUNK, RECORDS - s) }, (_, i) => s + i), call });
    let done = 0;
    const t0 = performance.now();
    await runChunks({ url, kind: kind.name, chunks, onResult: async (k) => void (done += k) });
    const ms = performance.now() - t0;
    await Promise.all(workers.map((w) => w.close()));
    if (done !== RECORDS) throw new Error(`${done} records came back, not ${RECORDS}`);
    rows.push({ call, n, ms });
  }
}
await stop();
server.close();

const ideal = (n) => (RECORDS * DELAY) / n;
console.log(
  `queue throughput: ${RECORDS} records in chunks of ${CHUNK}, each record one call to a loopback endpoint answering after ${DELAY} ms; ${values.processes ? "each worker its own process" : "workers in this process"}, concurrency 1 each\n`,
);
console.log(
  "| workers | wall (s) | records/s | speed-up | ideal wall (s) | queue cost a record (ms) | no-op jobs: wall (s) | queue cost a record, no-op (ms) |",
);
console.log("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
const base = rows.find((r) => r.call && r.n === WORKERS[0]);
for (const n of WORKERS) {
  const r = rows.find((x) => x.call && x.n === n);
  const z0 = rows.find((x) => !x.call && x.n === n);
  console.log(
    `| ${n} | ${(r.ms / 1000).toFixed(2)} | ${((RECORDS * 1000) / r.ms).toFixed(1)} | ${(base.ms / r.ms).toFixed(2)} | ${(ideal(n) / 1000).toFixed(2)} | ${((r.ms - ideal(n)) / RECORDS).toFixed(2)} | ${(z0.ms / 1000).toFixed(2)} | ${(z0.ms / RECORDS).toFixed(2)} |`,
  );
}
process.exit(0);
