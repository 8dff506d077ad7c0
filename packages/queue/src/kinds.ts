// A job kind: sr2se's own unit of work, named, with arguments a schema validates before anything runs.
import { UnrecoverableError } from "bullmq";
import type { z } from "zod";

/** The BullMQ queue every sr2se job goes through (the job's name is its kind). */
export const QUEUE_NAME = "sr2se";

/** What a running job may tell the queue. */
export interface JobContext {
  /** The job's id in the queue. */
  id: string;
  /** Which try this is, from 1. */
  attempt: number;
  /** Reports the share of the job done, 0 to 100 (shown to the command that enqueued it). */
  progress(percent: number): Promise<void>;
}

/** One kind of job a worker runs: its name, its arguments' schema, and what it does with them. */
export interface JobKind<A = unknown, R = unknown> {
  name: string;
  args: z.ZodType<A>;
  run(args: A, ctx: JobContext): Promise<R>;
}

/** Returns `kind` typed as a JobKind (so a registry of kinds can hold different argument types). */
export function defineJobKind<A, R>(kind: JobKind<A, R>): JobKind<A, R> {
  return kind;
}

/**
 * A job that no retry can help (another checkpoint, arguments that do not validate): BullMQ fails
 * it at once instead of trying it again.
 */
export class JobRefusedError extends UnrecoverableError {
  override name = "JobRefusedError";
}
