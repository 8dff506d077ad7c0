// `ipr generate --queue`: the command reads and checks the samples as a local run does and hands them,
// a chunk at a time and with their image bytes, to sr2se workers, which refine them against the model
// server (an OpenAI-compatible endpoint on the worker's list) with the command's options. The results
// come back into the command's run, which writes pairs, outcomes and statistics as a local run does;
// sampling is seeded per sample and attempt, so the records do not depend on who refined them.
import { readFile } from "node:fs/promises";
import { isFatalEndpointError, OpenAIError, type Sample, type VisionLanguagePolicy } from "@sr2se/core";
import { corruptImage, SHAPES_WORLD_VOCABULARY } from "@sr2se/data";
import { createHallucinationCounter } from "@sr2se/eval";
import {
  OpenAICompatiblePolicy,
  RefinementEngine,
  type RefinementOptions,
  type RefinementResult,
} from "@sr2se/ipr";
import { type ChunkClient, defineJobKind, JobRefusedError } from "@sr2se/queue";
import { z } from "zod";
import { checkEndpoint } from "./endpoints.js";
import { checkpointModel } from "./predict-job.js";

/** The engine options that travel with a job: every option of the command that is plain data. */
export type IprEngineConfig = Omit<
  RefinementOptions,
  "policy" | "corruptImage" | "countHallucinations" | "checkAnswer" | "formatPrompt" | "concurrency"
>;

const IprArgs = z
  .object({
    /** The model: an endpoint (with `model`) or a checkpoint every worker reads at this path (with its hash). */
    endpoint: z.string().url().optional(),
    model: z.string().min(1).optional(),
    ckpt: z.string().min(1).optional(),
    ckptHash: z
      .string()
      .regex(/^[0-9a-f]{64}$/, "a sha256 in hex")
      .optional(),
    device: z.enum(["cpu", "webgpu"]).optional(),
    logprobs: z.boolean(),
    timeoutMs: z.number().int().min(1),
    // checked field by field by the engine itself, which refuses what it does not take
    engine: z.record(z.string(), z.unknown()),
    samples: z
      .array(
        z
          .object({
            sample: z.record(z.string(), z.unknown()),
            /** The image's bytes, base64 (the worker needs no copy of the dataset). */
            image: z.string().max(64 * 1024 * 1024),
          })
          .strict(),
      )
      .min(1)
      .max(1000),
  })
  .strict()
  .refine(
    (a) =>
      (a.endpoint !== undefined && a.model !== undefined) !==
      (a.ckpt !== undefined && a.ckptHash !== undefined),
    {
      message: "give either endpoint and model, or ckpt and ckptHash",
    },
  );

/** The arguments of an `ipr` job. */
export type IprJobArgs = z.infer<typeof IprArgs>;

/** What an `ipr` job returns: per sample, in order, its result or its error; and the job's model calls. */
export interface IprJobResult {
  results: ({ ok: RefinementResult } | { error: string })[];
  /** The policy calls (batches) and requests this job made: the command's statistics add them up. */
  counters?: { calls: number; requests: number };
}

/** The prefix of a job failure after which no other request to the endpoint can succeed. */
const FATAL = "fatal endpoint error: ";

/** The IPR engine of `ipr generate`: the plain options, and the functions every engine of the command and its workers shares (CHAIR's counter, STIC's corrupter). */
export function iprEngine(
  policy: VisionLanguagePolicy,
  config: IprEngineConfig,
  concurrency?: number,
): RefinementEngine {
  return new RefinementEngine({
    ...config,
    policy,
    corruptImage: (image, _sample, seed) => corruptImage(image, seed),
    // CHAIR's counts with `sr2se eval score --bench chair`'s defaults, so the two agree
    countHallucinations: createHallucinationCounter({ vocabulary: SHAPES_WORLD_VOCABULARY }),
    ...(concurrency !== undefined ? { concurrency } : {}),
  });
}

/** A worker's endpoint clients, one a model configuration, kept across its jobs (their connections too). */
const policies = new Map<string, OpenAICompatiblePolicy>();

/** The `ipr` job kind: refines a chunk of samples against an allowed model endpoint. */
export const iprJob = defineJobKind<IprJobArgs, IprJobResult>({
  name: "ipr",
  args: IprArgs,
  async run(args, ctx) {
    const config = args.engine as IprEngineConfig;
    let policy: VisionLanguagePolicy;
    if (args.ckpt !== undefined && args.ckptHash !== undefined)
      policy = await checkpointModel(
        { ckpt: args.ckpt, ckptHash: args.ckptHash, device: args.device },
        "ipr",
      );
    else {
      const endpoint = args.endpoint as string;
      checkEndpoint("ipr", endpoint);
      const concurrency = (config.maxInFlight ?? 4) * (config.batchSize ?? 8);
      const key = JSON.stringify([endpoint, args.model, args.logprobs, args.timeoutMs, concurrency]);
      let client = policies.get(key);
      if (!client) {
        client = new OpenAICompatiblePolicy({
          baseURL: endpoint,
          model: args.model as string,
          logprobs: args.logprobs,
          timeoutMs: args.timeoutMs,
          concurrency,
        });
        policies.set(key, client);
      }
      policy = client;
    }
    // an engine (and its batcher) a job: its counters are this job's calls alone, whatever runs beside it
    let refiner: RefinementEngine;
    try {
      refiner = iprEngine(policy, config);
    } catch (err) {
      throw new JobRefusedError(`ipr: the job's options are refused: ${(err as Error).message}`);
    }
    let done = 0;
    // the job's progress, visible from the queue (and the command's bar)
    const tick = () => void ctx.progress(Math.round((100 * ++done) / args.samples.length)).catch(() => {});
    const results = await Promise.all(
      args.samples.map(({ sample, image }) =>
        refiner.refine(sample as unknown as Sample, Buffer.from(image, "base64")).then(
          (ok) => {
            tick();
            return { ok };
          },
          (err: unknown) => {
            // the endpoint refuses everything: fail the job at once (no retry), the command stops
            if (isFatalEndpointError(err)) throw new JobRefusedError(`${FATAL}${(err as Error).message}`);
            return { error: (err as Error).message ?? String(err) };
          },
        ),
      ),
    );
    return { results, counters: { ...refiner.batcher.counters } };
  },
});

/** How `ipr generate --queue` refines. */
export interface QueuedIprOptions {
  client: ChunkClient;
  /** The workers' model: an endpoint and model name, or a checkpoint folder (absolute) and its hash. */
  model: { endpoint: string; model: string } | { ckpt: string; ckptHash: string; device?: "cpu" | "webgpu" };
  logprobs: boolean;
  timeoutMs: number;
  engine: IprEngineConfig;
  /** Samples refined at once by the command's run (its workers' chunks fill from them). */
  concurrency: number;
  /** Samples a job. */
  chunkSize: number;
}

interface Waiting {
  sample: Sample;
  image: string;
  resolve: (r: RefinementResult) => void;
  reject: (e: unknown) => void;
}

/**
 * A Refiner for the command's run whose `refine` calls go to the workers in chunks: the run's own
 * options and files, the workers' model calls. The policy of its local engine is never called.
 */
export function queuedRefiner(o: QueuedIprOptions) {
  const unused: VisionLanguagePolicy = {
    generate: async () => {
      throw new Error("ipr --queue: the command's engine does not call the model; its workers do");
    },
  };
  const local = iprEngine(unused, o.engine, o.concurrency);
  // the workers' model calls, added up as their jobs come back (the run's statistics read them)
  const counters = { calls: 0, requests: 0 };
  let waiting: Waiting[] = [];
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    const batch = waiting;
    waiting = [];
    if (batch.length === 0) return;
    const args: IprJobArgs = {
      ...o.model,
      logprobs: o.logprobs,
      timeoutMs: o.timeoutMs,
      engine: o.engine as Record<string, unknown>,
      samples: batch.map((w) => ({ sample: w.sample as unknown as Record<string, unknown>, image: w.image })),
    };
    o.client.run<IprJobArgs, IprJobResult>(iprJob.name, args).then(
      ({ results, counters: used }) => {
        counters.calls += used?.calls ?? 0;
        counters.requests += used?.requests ?? 0;
        batch.forEach((w, i) => {
          const r = results[i];
          if (r && "ok" in r) w.resolve(r.ok);
          else w.reject(new Error(r ? r.error : "the worker returned no result for this sample"));
        });
      },
      (err: Error) => {
        const message = err.message ?? String(err);
        // a fatal endpoint error on a worker stops this run's other workers too
        const error = message.includes(FATAL)
          ? new Error(message, { cause: new OpenAIError(message, undefined, false, true) })
          : err;
        for (const w of batch) w.reject(error);
      },
    );
  };
  return {
    options: local.options,
    batcher: { counters },
    async refine(sample: Sample, image?: string | Uint8Array): Promise<RefinementResult> {
      const source = image ?? sample.image;
      const bytes = typeof source === "string" ? await readFile(source) : source;
      return new Promise<RefinementResult>((resolve, reject) => {
        waiting.push({ sample, image: Buffer.from(bytes).toString("base64"), resolve, reject });
        if (waiting.length >= o.chunkSize) flush();
        else timer ??= setTimeout(flush, 50);
      });
    },
  };
}
