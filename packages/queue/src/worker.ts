// A worker: takes sr2se jobs from the queue and runs only the kinds it was given, after validating
// their arguments. Nothing taken from the queue is ever run as a command line.
import { type Job, Worker } from "bullmq";
import { type JobKind, JobRefusedError, QUEUE_NAME } from "./kinds.js";
import { redisConnection } from "./redis.js";

/** How a worker runs. */
export interface WorkerOptions {
  /** The queue's redis:// URL. */
  url: string;
  /** The kinds this worker runs; a job of any other kind is refused. */
  // biome-ignore lint/suspicious/noExplicitAny: a registry holds kinds of different argument types
  kinds: JobKind<any, any>[];
  /** Jobs run at once (default 1). */
  concurrency?: number;
  /** How long a job's lock lasts without renewal, in ms (BullMQ's default 30 000): a dead worker's job is retried after it. */
  lockDuration?: number;
  /** How often stalled jobs are looked for, in ms (BullMQ's default 30 000). */
  stalledInterval?: number;
  /** Where the worker says what it does (default: nowhere). */
  log?: (line: string) => void;
}

/** A started worker. */
export interface RunningWorker {
  worker: Worker;
  /** Stops taking jobs and resolves once the running ones have finished (`force`: at once; they are retried elsewhere). */
  close(force?: boolean): Promise<void>;
}

/** Returns the error message of invalid arguments: each issue's path and message. */
function describeIssues(issues: { path: PropertyKey[]; message: string }[]): string {
  return issues
    .slice(0, 5)
    .map((i) => `${i.path.length ? i.path.map(String).join(".") : "(arguments)"}: ${i.message}`)
    .join("; ");
}

/** Starts a worker on the sr2se queue; resolves once it is connected. */
export async function startWorker(opts: WorkerOptions): Promise<RunningWorker> {
  const kinds = new Map(opts.kinds.map((k) => [k.name, k]));
  const log = opts.log ?? (() => {});
  const processor = async (job: Job) => {
    const kind = kinds.get(job.name);
    if (!kind)
      throw new JobRefusedError(
        `job ${job.id}: kind "${job.name}" is not one this worker runs (${[...kinds.keys()].join(", ")})`,
      );
    const parsed = kind.args.safeParse(job.data);
    if (!parsed.success)
      throw new JobRefusedError(
        `job ${job.id} (${job.name}): invalid arguments: ${describeIssues(parsed.error.issues)}`,
      );
    return kind.run(parsed.data, {
      id: String(job.id),
      attempt: job.attemptsMade + 1,
      progress: (percent) => job.updateProgress(percent),
    });
  };
  const worker = new Worker(QUEUE_NAME, processor, {
    connection: redisConnection(opts.url),
    concurrency: Math.max(1, opts.concurrency ?? 1),
    ...(opts.lockDuration ? { lockDuration: opts.lockDuration } : {}),
    ...(opts.stalledInterval ? { stalledInterval: opts.stalledInterval } : {}),
    maxStalledCount: 3,
  });
  worker.on("active", (job) => log(`job ${job.id} (${job.name}) started`));
  worker.on("completed", (job) => log(`job ${job.id} (${job.name}) done`));
  worker.on("failed", (job, err) => log(`job ${job?.id} (${job?.name}) failed: ${err.message}`));
  // a lost connection is retried by the client; say so rather than crash
  worker.on("error", (err) => log(`worker: ${err.message}`));
  await worker.waitUntilReady();
  return { worker, close: (force = false) => worker.close(force) };
}
