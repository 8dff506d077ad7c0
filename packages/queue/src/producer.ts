// The command's side: its work, cut into chunks, goes on the queue as jobs whose ids are a hash of
// kind and arguments, so a rerun finds a chunk already done (or under way) instead of adding it again.
// Results are handed back in chunk order, each exactly once, however the workers finish.
import { createHash } from "node:crypto";
import { type Job, Queue, QueueEvents } from "bullmq";
import { QUEUE_NAME } from "./kinds.js";
import { redactRedisUrl, redisConnection } from "./redis.js";

/** How a chunked run goes over the queue. */
export interface RunChunksOptions<A, R> {
  /** The queue's redis:// URL. */
  url: string;
  /** The job kind every chunk is. */
  kind: string;
  /** Each chunk's arguments, in order. */
  chunks: A[];
  /** Receives each chunk's result, in chunk order, once. */
  onResult(result: R, index: number): Promise<void>;
  /** Tries of a chunk before it fails (default 3; a worker that dies mid-chunk does not use one up). */
  attempts?: number;
  /** Says something worth knowing (no worker connected, a chunk failed), one line at a time. */
  log?: (line: string) => void;
  /** Receives what a chunk's job reports with `ctx.progress` (0 to 100), as it reports it. */
  onProgress?(percent: number, index: number): void;
}

/** Returns the id of the job that runs `kind` on `args`: the same work always gets the same id. */
export function jobIdOf(kind: string, args: unknown): string {
  return `${kind}-${createHash("sha256").update(JSON.stringify(args)).digest("hex").slice(0, 40)}`;
}

/**
 * Runs every chunk as a job on the queue and hands each result to `onResult` in chunk order;
 * resolves once all are handed over, or rejects naming every chunk that failed (the others are
 * handed over first).
 */
export async function runChunks<A, R>(opts: RunChunksOptions<A, R>): Promise<void> {
  const connection = redisConnection(opts.url);
  const log = opts.log ?? (() => {});
  const queue = new Queue(QUEUE_NAME, { connection });
  const events = new QueueEvents(QUEUE_NAME, { connection });
  // one listener a job waited on (and BullMQ's own, one a job added)
  events.setMaxListeners(0);
  queue.setMaxListeners(0);
  let noWorkerTimer: NodeJS.Timeout | undefined;
  try {
    await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
    const jobs: Job[] = [];
    for (const args of opts.chunks) {
      const jobId = jobIdOf(opts.kind, args);
      // a chunk that failed on an earlier run is tried afresh; one done or under way is waited on
      const existing = await queue.getJob(jobId);
      if (existing && (await existing.isFailed())) await existing.remove();
      jobs.push(
        await queue.add(opts.kind, args, {
          jobId,
          attempts: opts.attempts ?? 3,
          backoff: { type: "exponential", delay: 1000 },
          removeOnComplete: { age: 7 * 24 * 3600 },
          removeOnFail: { age: 7 * 24 * 3600 },
        }),
      );
    }
    noWorkerTimer = setTimeout(async () => {
      if ((await queue.getWorkersCount().catch(() => 1)) === 0)
        log(
          `no sr2se worker is connected to ${redactRedisUrl(opts.url)} yet: start one with \`sr2se worker --redis URL\``,
        );
    }, 3000);
    if (opts.onProgress) {
      const indexOf = new Map(jobs.map((job, i) => [String(job.id), i]));
      events.on("progress", ({ jobId, data }) => {
        const i = indexOf.get(jobId);
        if (i !== undefined && typeof data === "number") opts.onProgress?.(data, i);
      });
    }
    const finished = jobs.map((job) => job.waitUntilFinished(events) as Promise<R>);
    for (const f of finished) f.catch(() => {});
    const failed: string[] = [];
    for (let i = 0; i < jobs.length; i++) {
      let result: R;
      try {
        result = await finished[i];
      } catch (err) {
        failed.push(`chunk ${i + 1} of ${jobs.length} (job ${jobs[i].id}): ${(err as Error).message}`);
        log(failed[failed.length - 1]);
        continue;
      }
      await opts.onResult(result, i);
      // handed over: the job is no longer needed (a rerun skips what the caller has written)
      await jobs[i].remove().catch(() => {});
    }
    if (failed.length > 0)
      throw new Error(
        `${failed.length} of ${jobs.length} chunks failed on the queue:\n${failed.slice(0, 10).join("\n")}${failed.length > 10 ? `\n… and ${failed.length - 10} more` : ""}`,
      );
  } finally {
    clearTimeout(noWorkerTimer);
    await events.close();
    await queue.close();
  }
}

/** A producer that puts chunks on the queue one at a time, as the caller's work arrives. */
export interface ChunkClient {
  /**
   * Runs `args` as a job of `kind` and resolves to its result (the job is then removed); rejects
   * with the job's failure, whose `failedReason` is the worker's message.
   */
  run<A, R>(kind: string, args: A): Promise<R>;
  close(): Promise<void>;
}

/** Opens a ChunkClient on the queue at `url` (for work that streams in, where `runChunks` needs it all first). */
export async function openChunkClient(
  url: string,
  opts: { attempts?: number; log?: (line: string) => void } = {},
): Promise<ChunkClient> {
  const connection = redisConnection(url);
  const queue = new Queue(QUEUE_NAME, { connection });
  const events = new QueueEvents(QUEUE_NAME, { connection });
  events.setMaxListeners(0);
  queue.setMaxListeners(0);
  await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
  const noWorkerTimer = setTimeout(async () => {
    if ((await queue.getWorkersCount().catch(() => 1)) === 0)
      opts.log?.(
        `no sr2se worker is connected to ${redactRedisUrl(url)} yet: start one with \`sr2se worker --redis URL\``,
      );
  }, 3000);
  return {
    async run<A, R>(kind: string, args: A): Promise<R> {
      const jobId = jobIdOf(kind, args);
      const existing = await queue.getJob(jobId);
      if (existing && (await existing.isFailed())) await existing.remove();
      const job = await queue.add(kind, args, {
        jobId,
        attempts: opts.attempts ?? 3,
        backoff: { type: "exponential", delay: 1000 },
        removeOnComplete: { age: 7 * 24 * 3600 },
        removeOnFail: { age: 7 * 24 * 3600 },
      });
      const result = (await job.waitUntilFinished(events)) as R;
      await job.remove().catch(() => {});
      return result;
    },
    async close() {
      clearTimeout(noWorkerTimer);
      await events.close();
      await queue.close();
    },
  };
}
