import { readFile } from "node:fs/promises";
import {
  type BatcherCounters,
  DatasetPathError,
  isFatalEndpointError,
  JsonlWriter,
  type PreferencePair,
  readJsonl,
  resolveDatasetPath,
  type Sample,
  writeFileAtomic,
} from "@sr2se/core";
import type { LocatedSample } from "../data/samples.js";
import type { RefinementResult, SampleOutcome, SftRecord } from "./outcome.js";
import { needsPairsPass, passOverPairs } from "./pairs-pass.js";
import type { ResolvedOptions } from "./resolved-options.js";
import { inShard, type Shard } from "./shard.js";
import { type RefinementStatistics, RefinementStatsTally } from "./stats.js";

/** Anything that shows progress: core's `createProgress()` fits. */
export interface ProgressSink {
  tick(n?: number, info?: Record<string, string | number>): void;
}

/** What a run reads and where it writes. */
export interface RunInput {
  /** The samples, streamed: plain samples or `readSamples()` items (with resolved image and line). */
  samples: AsyncIterable<Sample | LocatedSample> | Iterable<Sample | LocatedSample>;
  /** The pairs file (JSONL, appended; a rerun resumes it). */
  out: string;
  /** Where round-0 successes go when `keepSft` is set (default `<out>.sft.jsonl`). */
  sftOut?: string;
  /** The statistics JSON (default `<out>.stats.json`). */
  statsOut?: string;
  /** The ledger of processed samples that makes the run resumable (default `<out>.outcomes.jsonl`). */
  outcomesOut?: string;
  /** Process only this part of the dataset. */
  shard?: Shard;
  progress?: ProgressSink;
  /** Abort once more samples than this failed in the policy (default 10); failed samples are retried on a rerun. */
  maxErrors?: number;
  /**
   * The dataset folder of plain samples: each image is resolved against it and refused, before the
   * policy sees it, when it leaves it (`resolveDatasetPath`). `readSamples()` items are checked already.
   */
  imagesRoot?: string;
}

/** A sample that failed (policy error): not recorded, so a rerun tries it again. */
export interface SampleError {
  id: string;
  where: string;
  message: string;
}

/** What a run produced. */
export interface RunResult {
  stats: RefinementStatistics;
  errors: SampleError[];
  /**
   * `found`: with an end-of-run pass (balance, random negatives), every pair the engine found, which
   * the pass turns into `pairs`; null without one (the engine appends to `pairs` itself).
   */
  files: { pairs: string; found: string | null; outcomes: string; stats: string; sft: string | null };
}

/** The files a run with output `out` writes besides the pairs (`pass`: the run ends with a pass over its pairs). */
export function runFiles(
  out: string,
  input: Partial<RunInput> = {},
  keepSft = false,
  pass = false,
): RunResult["files"] {
  const base = out.endsWith(".jsonl") ? out.slice(0, -".jsonl".length) : out;
  return {
    pairs: out,
    found: pass ? `${base}.found.jsonl` : null,
    outcomes: input.outcomesOut ?? `${base}.outcomes.jsonl`,
    stats: input.statsOut ?? `${base}.stats.json`,
    sft: keepSft ? (input.sftOut ?? `${base}.sft.jsonl`) : null,
  };
}

const CHECKPOINT_RECORDS = 256;
const CHECKPOINT_MS = 500;
const STATS_MS = 2000;

/** What a run drives: the engine's options, its batcher's counters and the refinement of one sample. */
export interface Refiner {
  readonly options: ResolvedOptions;
  readonly batcher: { readonly counters: BatcherCounters };
  refine(sample: Sample, image?: string | Uint8Array): Promise<RefinementResult>;
}

/**
 * Streams samples through the engine with bounded concurrency. Pairs (and SFT records) are appended
 * first; a sample's outcome enters the ledger only after they are fsynced, so after a kill the
 * ledger never claims a sample whose pair was lost, and a rerun skips exactly the samples it holds.
 */
export async function runRefinement(engine: Refiner, input: RunInput): Promise<RunResult> {
  const options = engine.options;
  const pass = needsPairsPass(options);
  const files = runFiles(input.out, input, options.keep_sft, pass);
  await checkSameOptions(files.stats, options, input.shard);
  const maxErrors = input.maxErrors ?? 10;

  const pairs = await JsonlWriter.open<PreferencePair>(files.found ?? files.pairs, { batchSize: 256 });
  const sft = files.sft ? await JsonlWriter.open<SftRecord>(files.sft, { batchSize: 256 }) : null;
  const ledger = await JsonlWriter.open<SampleOutcome>(files.outcomes, { batchSize: 1024 });

  const tally = new RefinementStatsTally(options.rounds);
  const done = new Set<string>();
  for await (const o of readJsonl<SampleOutcome>(files.outcomes, { lenient: true })) {
    // an outcome whose pair did not reach the disk does not count: the sample is refined again
    if (o.pair_id !== undefined && !pairs.has(o.pair_id)) continue;
    if (o.sft_id !== undefined && sft && !sft.has(o.sft_id)) continue;
    if (done.has(o.id)) continue;
    done.add(o.id);
    tally.add(o, true);
  }

  const started = performance.now();
  const errors: SampleError[] = [];
  let fatal: unknown;
  let stopped = false;
  const seen = new Set<string>();
  const iterator = toAsyncIterator(input.samples);
  let pulling: Promise<unknown> = Promise.resolve();

  // one pull at a time: the source may be a plain generator
  const pull = (): Promise<LocatedSample | undefined> => {
    const next = pulling.then(async () => {
      while (!stopped) {
        const item = await iterator.next();
        if (item.done) return undefined;
        const located = asLocated(item.value, input.imagesRoot);
        const id = located.sample.id;
        if (!inShard(id, input.shard)) continue;
        if (seen.has(id)) throw new Error(`${located.where}: duplicate sample id "${id}"`);
        seen.add(id);
        if (done.has(id)) continue;
        return located;
      }
      return undefined;
    });
    pulling = next.catch(() => {});
    return next;
  };

  let pendingOutcomes: SampleOutcome[] = [];
  let lastCheckpoint = performance.now();
  let lastStats = 0;
  let checkpointChain: Promise<void> = Promise.resolve();
  const snapshot = () =>
    tally.snapshot(options, input.shard, (performance.now() - started) / 1000, {
      ...engine.batcher.counters,
    });
  const checkpoint = (final = false): Promise<void> => {
    const taken = pendingOutcomes;
    pendingOutcomes = [];
    lastCheckpoint = performance.now();
    checkpointChain = checkpointChain.then(async () => {
      await pairs.flush();
      if (sft) await sft.flush();
      for (const o of taken) await ledger.append(o);
      await ledger.flush();
      if (final || performance.now() - lastStats >= STATS_MS) {
        lastStats = performance.now();
        await writeFileAtomic(files.stats, `${JSON.stringify(snapshot(), null, 2)}\n`);
      }
    });
    return checkpointChain;
  };

  const worker = async (): Promise<void> => {
    while (!stopped) {
      let located: LocatedSample | undefined;
      try {
        located = await pull();
      } catch (err) {
        fatal ??= err;
        stopped = true;
        return;
      }
      if (!located) return;
      try {
        const result = await engine.refine(located.sample, located.image);
        if (result.pair) await pairs.append(result.pair);
        if (result.sft && sft) await sft.append(result.sft);
        pendingOutcomes.push(result.outcome);
        tally.add(result.outcome);
        input.progress?.tick(1, { pairs: tally.pairs, errors: errors.length });
      } catch (err) {
        tally.errors++;
        errors.push({
          id: located.sample.id,
          where: located.where,
          message: (err as Error).message ?? String(err),
        });
        input.progress?.tick(1, { pairs: tally.pairs, errors: errors.length });
        // an endpoint that refuses every request (bad key, no such model, retries spent): stop all workers now
        if (isFatalEndpointError(err)) {
          fatal ??= new Error(
            `${located.where}: ${(err as Error).message}; stopped (every other request would fail alike)`,
            {
              cause: err,
            },
          );
          stopped = true;
          return;
        }
        if (errors.length > maxErrors) {
          fatal ??= new Error(
            `${errors.length} samples failed (more than ${maxErrors}); last: ${located.where}: ${errors.at(-1)?.message}`,
          );
          stopped = true;
          return;
        }
      }
      if (
        pendingOutcomes.length >= CHECKPOINT_RECORDS ||
        performance.now() - lastCheckpoint >= CHECKPOINT_MS
      ) {
        void checkpoint().catch((err) => {
          fatal ??= err;
          stopped = true;
        });
      }
    }
  };

  try {
    await Promise.all(Array.from({ length: options.concurrency }, worker));
    if (pass && !fatal) {
      await checkpoint();
      const found: PreferencePair[] = [];
      for await (const p of readJsonl<PreferencePair>(files.found as string, { lenient: true }))
        found.push(p);
      const done = passOverPairs(found, options);
      await writeFileAtomic(files.pairs, done.pairs.map((p) => `${JSON.stringify(p)}\n`).join(""));
      tally.pairsPass = done.pass;
    }
  } finally {
    try {
      await checkpoint(true);
    } finally {
      await pairs.close();
      if (sft) await sft.close();
      await ledger.close();
      await iterator.return?.();
    }
  }
  if (fatal) throw fatal;
  return { stats: snapshot(), errors, files };
}

/** Options that a resumed run must share, added after the first ones. */
const ADDED_OPTIONS = ["seed", "verify", "negatives", "perception", "audit_self_reward", "balance"];

/** Refuses to resume an output that was started with different options, whose statistics would not add up. */
async function checkSameOptions(
  statsFile: string,
  options: ResolvedOptions,
  shard: Shard | undefined,
): Promise<void> {
  let previous: { options?: Record<string, unknown> };
  try {
    previous = JSON.parse(await readFile(statsFile, "utf8"));
  } catch {
    return;
  }
  const now: Record<string, unknown> = { ...options, shard: shard ? `${shard.index}/${shard.count}` : null };
  for (const key of [
    "rounds",
    "samples_per_round",
    "temperature",
    "format_check",
    "self_reward",
    "keep_sft",
    "shard",
    ...ADDED_OPTIONS,
  ]) {
    // an output started before an option existed does not record it: nothing to compare
    if (ADDED_OPTIONS.includes(key) && previous.options && !(key in previous.options)) continue;
    const a = JSON.stringify(previous.options?.[key] ?? null);
    const b = JSON.stringify(now[key] ?? null);
    if (a !== b) {
      throw new Error(
        `${statsFile}: this output was started with ${key}=${a}, now ${key}=${b}; use the same options or a new --out`,
      );
    }
  }
}

function asLocated(value: Sample | LocatedSample, imagesRoot: string | undefined): LocatedSample {
  if ("sample" in value && typeof value.sample === "object" && value.sample !== null && "where" in value) {
    return value as LocatedSample;
  }
  const sample = value as Sample;
  if (typeof sample?.id !== "string" || sample.id === "")
    throw new Error(`sample ${JSON.stringify(sample)?.slice(0, 80)}: field "id" is missing`);
  const where = `sample "${sample.id}"`;
  if (imagesRoot === undefined) return { sample, image: sample.image, where };
  try {
    return { sample, image: resolveDatasetPath(imagesRoot, sample.image), where };
  } catch (err) {
    if (err instanceof DatasetPathError) throw new Error(`${where}: field "image": ${err.message}`);
    throw err;
  }
}

function toAsyncIterator<T>(source: AsyncIterable<T> | Iterable<T>): AsyncIterator<T> {
  if (Symbol.asyncIterator in source) return (source as AsyncIterable<T>)[Symbol.asyncIterator]();
  const it = (source as Iterable<T>)[Symbol.iterator]();
  return {
    next: async () => it.next(),
    return: async () => it.return?.() ?? { done: true, value: undefined },
  };
}
