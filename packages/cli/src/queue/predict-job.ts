// `predict` as queue jobs: the command cuts the questions not yet answered into chunks, workers
// answer each chunk with the checkpoint the job names (after checking its hash), and the command
// writes the answers, in question order, into the same file a local run writes.
import { stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { createProgress, JsonlWriter, type Prediction } from "@sr2se/core";
import { defineJobKind, JobRefusedError, runChunks } from "@sr2se/queue";
import {
  answerQuestions,
  checkpointDirOf,
  checkpointHash,
  readQuestions,
  unansweredError,
  VLM,
} from "@sr2se/vlm";
import { z } from "zod";

const PredictArgs = z
  .object({
    ckpt: z.string().min(1),
    ckptHash: z.string().regex(/^[0-9a-f]{64}$/, "a sha256 in hex"),
    device: z.enum(["cpu", "webgpu"]).optional(),
    source: z.string(),
    sampling: z
      .object({
        maxTokens: z.number().int().min(1),
        temperature: z.number().min(0),
        topP: z.number().min(0).optional(),
        topK: z.number().int().min(1).optional(),
        seed: z.number().int(),
        batchSize: z.number().int().min(1),
      })
      .strict(),
    questions: z
      .array(
        z
          .object({ id: z.string().min(1), image: z.string().min(1), question: z.string(), line: z.number() })
          .strict(),
      )
      .min(1)
      .max(100_000),
  })
  .strict();

/** The arguments of a `predict` job. */
export type PredictJobArgs = z.infer<typeof PredictArgs>;

/** What a `predict` job returns: the answers, and the questions whose image failed to load. */
export interface PredictJobResult {
  predictions: Prediction[];
  failed: string[];
}

/** Returns a fingerprint of a checkpoint's files (size and time of change): when it changes, the hash is taken again. */
async function fingerprintOf(dir: string): Promise<string> {
  const parts = await Promise.all(
    ["config.json", "model.safetensors", "tokenizer.json"].map(async (name) => {
      const s = await stat(join(dir, name)).catch(() => null);
      return s ? `${s.size}:${s.mtimeMs}` : "-";
    }),
  );
  return parts.join("|");
}

/** The checkpoints a worker has loaded, by folder and device, with the hash of the files they came from. */
const loaded = new Map<string, { fingerprint: string; hash: string; vlm: Promise<VLM> }>();

/**
 * Returns the VLM of a job's checkpoint (loaded once a worker, kept across its jobs); refuses the job
 * where the worker's files hash differently. `kind` names the job kind in the refusal.
 */
export async function checkpointModel(
  args: { ckpt: string; ckptHash: string; device?: "cpu" | "webgpu" },
  kind = "predict",
): Promise<VLM> {
  const dir = await checkpointDirOf(args.ckpt);
  const fingerprint = await fingerprintOf(dir);
  const key = `${args.device ?? ""}|${dir}`;
  let entry = loaded.get(key);
  if (!entry || entry.fingerprint !== fingerprint) {
    let hash: string;
    try {
      hash = await checkpointHash(dir);
    } catch (err) {
      throw new JobRefusedError(`${kind}: this worker cannot read the checkpoint: ${(err as Error).message}`);
    }
    entry = { fingerprint, hash, vlm: VLM.load(dir, { device: args.device }) };
    loaded.set(key, entry);
  }
  if (entry.hash !== args.ckptHash)
    throw new JobRefusedError(
      `${kind}: the checkpoint ${dir} on this worker is not the one the job was made with (sha256 ${entry.hash.slice(0, 12)}… here, ${args.ckptHash.slice(0, 12)}… in the job); refusing the job`,
    );
  return entry.vlm;
}

/** The `predict` job kind: answers a chunk of questions with a checkpoint every worker can read. */
export const predictJob = defineJobKind<PredictJobArgs, PredictJobResult>({
  name: "predict",
  args: PredictArgs,
  async run(args, ctx) {
    const vlm = await checkpointModel(args);
    const predictions: Prediction[] = [];
    let done = 0;
    const failed = await answerQuestions(
      vlm,
      args.questions,
      args.source,
      async (p) => {
        predictions.push(p);
      },
      {
        ...args.sampling,
        progress: false,
        onBatch: (n) => {
          done += n;
          void ctx.progress(Math.round((100 * done) / args.questions.length)).catch(() => {});
        },
      },
    );
    return { predictions, failed };
  },
});

/** How `predict --queue` runs. */
export interface QueuedPredictOptions {
  url: string;
  ckpt: string;
  data: string;
  out: string;
  device?: "cpu" | "webgpu";
  sampling: PredictJobArgs["sampling"];
  /** Questions a job (default 64). */
  chunkSize: number;
}

/**
 * Answers every question of `data` not yet in `out` through sr2se workers on the queue; resolves
 * to the counts written and skipped. The answers are written in question order, so a run from
 * scratch writes the file a local run writes.
 */
export async function predictOverQueue(
  opts: QueuedPredictOptions,
): Promise<{ written: number; skipped: number }> {
  const questions = await readQuestions(opts.data);
  const ckpt = resolve(await checkpointDirOf(opts.ckpt));
  const ckptHash = await checkpointHash(ckpt);
  const writer = await JsonlWriter.open<Prediction>(opts.out, { batchSize: 64 });
  const todo = questions.filter((q) => !writer.has(q.id));
  const progress = createProgress({ label: "predict", total: questions.length, unit: "answers" });
  progress.update(questions.length - todo.length);
  const chunks: PredictJobArgs[] = [];
  for (let s = 0; s < todo.length; s += opts.chunkSize)
    chunks.push({
      ckpt,
      ckptHash,
      ...(opts.device ? { device: opts.device } : {}),
      source: opts.data,
      sampling: opts.sampling,
      questions: todo.slice(s, s + opts.chunkSize).map((q) => ({ ...q, image: resolve(q.image) })),
    });
  let written = 0;
  const failed: string[] = [];
  try {
    await runChunks<PredictJobArgs, PredictJobResult>({
      url: opts.url,
      kind: predictJob.name,
      chunks,
      log: (line) => process.stderr.write(`predict: ${line}\n`),
      onResult: async (result, i) => {
        // a record is written once: an id already held (an earlier run, a chunk done twice) is skipped
        for (const p of result.predictions) if (await writer.append(p)) written++;
        failed.push(...result.failed);
        // on disk before the job is removed from the queue
        await writer.flush();
        progress.tick(chunks[i].questions.length);
      },
    });
  } finally {
    await writer.close();
    progress.stop();
  }
  if (failed.length > 0) throw unansweredError(failed, todo.length, written, opts.out);
  return { written, skipped: questions.length - todo.length };
}
