// `eval score --queue` with a judge: the command finds the samples whose judgments (MM-Vet's grades,
// MathVista's LLM extractions) are not in its cache yet and cuts them into chunks; workers ask the
// judge endpoint for each chunk and hand the judgments back; the command adds them to its cache and
// then scores as a local run does, every judgment a cache hit, so the result file is a local run's.
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createProgress, readJsonl } from "@sr2se/core";
import {
  type CachedJudgment,
  createMathVistaExtractor,
  createMmVetJudge,
  type EvalMode,
  type JudgeReply,
  type JudgeRequest,
  JudgmentCache,
  judgmentKey,
  MATHVISTA_DEFAULT_EXTRACTOR_MODEL,
  type MathVistaExtractor,
  type MathVistaProblem,
  MMVET_DEFAULT_JUDGE_MODEL,
  type MmVetJudge,
  type MmVetSample,
  scoreMathVista,
  scoreMmVet,
} from "@sr2se/eval";
import { defineJobKind, runChunks } from "@sr2se/queue";
import { z } from "zod";
import { checkEndpoint } from "./endpoints.js";

const JudgeArgs = z
  .object({
    bench: z.enum(["mmvet", "mathvista"]),
    /** The judge's OpenAI-compatible base URL: a worker calls it only when it is on its own list. */
    endpoint: z.string().url(),
    model: z.string().min(1),
    mode: z.enum(["official", "robust"]),
    runs: z.number().int().min(1).max(100),
    boxed: z.boolean(),
    quickExtract: z.boolean(),
    records: z.array(z.record(z.string(), z.unknown())).min(1).max(10_000),
    predictions: z.array(z.object({ id: z.string().min(1), response: z.string() }).passthrough()).max(10_000),
  })
  .strict();

/** The arguments of a `judge` job. */
export type JudgeJobArgs = z.infer<typeof JudgeArgs>;

/** What a `judge` job returns: the judgments it asked for, as cache entries. */
export interface JudgeJobResult {
  entries: CachedJudgment[];
}

/** The model a judge of `bench` uses when none is named (as `eval score` resolves it). */
export function judgeModelOf(bench: "mmvet" | "mathvista", model: string | undefined): string {
  return (
    model ??
    process.env.OPENAI_MODEL ??
    (bench === "mmvet" ? MMVET_DEFAULT_JUDGE_MODEL : MATHVISTA_DEFAULT_EXTRACTOR_MODEL)
  );
}

/** Scores one chunk with a judge whose cache is `cacheFile`: every judgment the scoring needs lands there. */
async function judgeInto(
  args: Omit<JudgeJobArgs, "endpoint">,
  how: { judge?: MmVetJudge; extractor?: MathVistaExtractor },
): Promise<void> {
  const mode = args.mode as EvalMode;
  if (args.bench === "mmvet")
    await scoreMmVet(args.records as unknown as MmVetSample[], args.predictions, {
      judge: how.judge as MmVetJudge,
      mode,
      runs: args.runs,
      boxed: args.boxed,
    });
  else
    await scoreMathVista(args.records as unknown as MathVistaProblem[], args.predictions, {
      mode,
      extractor: how.extractor,
      quickExtract: args.quickExtract,
      boxed: args.boxed,
    });
}

/** The `judge` job kind: asks an allowed judge endpoint for the judgments of a chunk of samples. */
export const judgeJob = defineJobKind<JudgeJobArgs, JudgeJobResult>({
  name: "judge",
  args: JudgeArgs,
  async run(args, ctx) {
    checkEndpoint("judge", args.endpoint);
    const cacheFile = join(tmpdir(), `sr2se-judge-${ctx.id}-${randomBytes(4).toString("hex")}.jsonl`);
    try {
      const client = { baseURL: args.endpoint, model: args.model, cacheFile };
      if (args.bench === "mmvet") await judgeInto(args, { judge: await createMmVetJudge(client) });
      else await judgeInto(args, { extractor: createMathVistaExtractor(client) });
      const entries: CachedJudgment[] = [];
      // no file: the chunk needed no judgment (MathVista's rules read every response)
      if (existsSync(cacheFile)) for await (const e of readJsonl<CachedJudgment>(cacheFile)) entries.push(e);
      return { entries };
    } finally {
      await rm(cacheFile, { force: true });
    }
  },
});

/** Records, without asking anyone, the samples whose judgments a cache lacks. */
class Probe {
  readonly missing = new Set<string>();
  constructor(
    readonly cache: JudgmentCache,
    readonly model: string,
  ) {}

  /** An MM-Vet judge that answers from the cache, and "0.0" (noting the sample) where it has nothing. */
  judge(): MmVetJudge {
    return {
      model: this.model,
      official: true,
      judge: async (request: JudgeRequest): Promise<JudgeReply> => {
        const hit = this.cache.get(judgmentKey(this.model, request.prompt, request.temperature, request.run));
        if (hit) return { content: hit.content, model: hit.replyModel };
        this.missing.add(request.sample.id);
        return { content: "0.0", model: this.model };
      },
    };
  }

  /** A MathVista extractor that answers from the cache, and "" (noting the problem) where it has nothing. */
  extractor(): MathVistaExtractor {
    return async ({ prompt, problem }) => {
      const hit = this.cache.get(judgmentKey(this.model, prompt, 0, 0));
      if (hit) return hit.content ?? "";
      this.missing.add(String(problem.pid));
      return "";
    };
  }
}

/** How `eval score --queue` runs. */
export interface QueuedJudgeOptions {
  url: string;
  bench: "mmvet" | "mathvista";
  endpoint: string;
  model: string;
  mode: EvalMode;
  runs: number;
  boxed: boolean;
  quickExtract: boolean;
  records: Record<string, unknown>[];
  predictions: { id: string; response: string }[];
  /** The cache the local scoring reads (the one `eval score --judge` keeps next to its result). */
  cacheFile: string;
  /** Samples a job (default 16). */
  chunkSize: number;
}

/**
 * Fills the judgment cache of an `eval score --judge` run through sr2se workers on the queue: only
 * the samples whose judgments it lacks are sent. Resolves to the samples judged and skipped.
 */
export async function judgeOverQueue(o: QueuedJudgeOptions): Promise<{ judged: number; skipped: number }> {
  const idField = o.bench === "mmvet" ? "id" : "pid";
  const cache = await JudgmentCache.open(o.cacheFile);
  const probe = new Probe(cache, o.model);
  await judgeInto(
    { ...o, records: o.records, predictions: o.predictions },
    o.bench === "mmvet" ? { judge: probe.judge() } : { extractor: probe.extractor() },
  );
  const todo = o.records.filter((r) => probe.missing.has(String(r[idField])));
  const byId = new Map(o.predictions.map((p) => [p.id, p]));
  const chunks: JudgeJobArgs[] = [];
  for (let s = 0; s < todo.length; s += o.chunkSize) {
    const records = todo.slice(s, s + o.chunkSize);
    chunks.push({
      bench: o.bench,
      endpoint: o.endpoint,
      model: o.model,
      mode: o.mode as "official" | "robust",
      runs: o.runs,
      boxed: o.boxed,
      quickExtract: o.quickExtract,
      records,
      predictions: records.flatMap((r) => {
        const p = byId.get(String(r[idField]));
        return p ? [{ id: p.id, response: p.response }] : [];
      }),
    });
  }
  const progress = createProgress({ label: "judge", total: o.records.length, unit: "samples" });
  progress.update(o.records.length - todo.length);
  try {
    await runChunks<JudgeJobArgs, JudgeJobResult>({
      url: o.url,
      kind: judgeJob.name,
      chunks,
      log: (line) => process.stderr.write(`eval: ${line}\n`),
      onResult: async (result, i) => {
        // a judgment already held (an earlier run, a chunk done twice) is not added again
        for (const e of result.entries) if (!cache.get(e.key)) await cache.put(e);
        progress.tick(chunks[i].records.length);
      },
    });
  } finally {
    progress.stop();
  }
  return { judged: todo.length, skipped: o.records.length - todo.length };
}
