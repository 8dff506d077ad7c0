// `experiment --queue`: the command runs the stages every seed shares (data, benches) and the report;
// each seed's stages (SFT, evaluations, IPR → SR-DPO rounds, the controls and baselines) go to a worker
// as one job, so seeds train at once on different machines. The experiment folder lives on a file
// system every worker mounts at the same path: the job carries the folder and the hash of the
// options the experiment was started with, never a stage's command line, and the worker rebuilds
// the seed's stages from the folder's own ledger (refusing the job where the options differ). A
// seed's finished stages are recorded in its own ledger (seed-<s>/stages.json), which only the
// worker running that seed writes; a worker that dies mid-stage is replaced by BullMQ's stalled-job
// handling, and the next worker skips what the ledger holds and resumes the stage from its checkpoint.
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { isAbsolute, resolve } from "node:path";
import { defineJobKind, JobRefusedError, runChunks } from "@sr2se/queue";
import { z } from "zod";
import {
  type ExperimentOptions,
  experimentLedgerFile,
  experimentPlan,
  seedLedgerFile,
} from "../commands/experiment-plan.js";
import { StageLedger } from "../commands/stages.js";

/** The options of an experiment's ledger, checked before a worker builds any stage from them. */
const OptionsSchema = z
  .object({
    seeds: z.number().int().min(1),
    variants: z.array(z.string().regex(/^[a-z0-9-]+$/)).min(1),
    seed: z.number().int().min(0),
    train: z.number().int().min(1),
    val: z.number().int().min(0),
    test: z.number().int().min(0),
    pope: z.number().int().min(1),
    mmmu: z.number().int().min(0),
    mathvista: z.number().int().min(0),
    mmvet: z.number().int().min(0),
    chair: z.number().int().min(0),
    valPope: z.number().int().min(1),
    iprShards: z.number().int().min(1),
    iprOptions: z.string().optional(),
    reference: z.enum(["previous", "sft"]),
    sftConfig: z.string().optional(),
    sftSteps: z.number().int().min(1).optional(),
    dpoEpochs: z.number().int().min(1),
    dpoSteps: z.number().int().min(1).optional(),
    grpoOptions: z.string().optional(),
    hsrEeOptions: z.string().optional(),
    world: z.string().optional(),
    device: z.enum(["cpu", "webgpu"]).optional(),
  })
  .strict();

/** JSON with the keys of every object sorted: the same options hash the same whatever their order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object")
    return `{${Object.keys(value)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  return JSON.stringify(value);
}

/** The sha256 of an experiment's options: what a job and the worker's view of the folder must agree on. */
export function optionsHash(options: ExperimentOptions): string {
  return createHash("sha256").update(canonical(options)).digest("hex");
}

const SeedArgs = z
  .object({
    out: z.string().refine(isAbsolute, "must be an absolute path"),
    seed: z.number().int().min(1),
    optionsHash: z.string().regex(/^[0-9a-f]{64}$/, "a sha256 in hex"),
    srDpoRef: z.enum(["--ref", "--reference"]).nullable(),
  })
  .strict();

/** The arguments of an `experiment-seed` job. */
export type ExperimentSeedArgs = z.infer<typeof SeedArgs>;

/** What an `experiment-seed` job returns. */
export interface ExperimentSeedResult {
  seed: number;
  stages: number;
}

/** The `experiment-seed` job kind: runs (or resumes) one seed's stages of an experiment on a shared folder. */
export const experimentSeedJob = defineJobKind<ExperimentSeedArgs, ExperimentSeedResult>({
  name: "experiment-seed",
  args: SeedArgs,
  async run(args, ctx) {
    const file = experimentLedgerFile(args.out);
    let raw: unknown;
    try {
      raw = (JSON.parse(await readFile(file, "utf8")) as { options?: unknown }).options;
    } catch (err) {
      throw new JobRefusedError(
        `experiment-seed: this worker cannot read ${file} (${(err as Error).message}): the experiment folder must be on a file system every worker mounts at the same path`,
      );
    }
    const parsed = OptionsSchema.safeParse(raw);
    if (!parsed.success)
      throw new JobRefusedError(
        `experiment-seed: ${file}: field "options.${parsed.error.issues[0]?.path.join(".")}" ${parsed.error.issues[0]?.message}`,
      );
    const options = parsed.data as ExperimentOptions;
    if (optionsHash(options) !== args.optionsHash)
      throw new JobRefusedError(
        `experiment-seed: ${file} on this worker holds an experiment started with other options than the job's (sha256 ${optionsHash(options).slice(0, 12)}… here, ${args.optionsHash.slice(0, 12)}… in the job); refusing the job`,
      );
    const stages = experimentPlan(args.out, options, { srDpoRef: args.srDpoRef }).seeds.get(args.seed);
    if (!stages)
      throw new JobRefusedError(
        `experiment-seed: the experiment has ${options.seeds} seeds, not ${args.seed}`,
      );
    const ledger = await StageLedger.open(
      seedLedgerFile(args.out, args.seed),
      `experiment seed ${args.seed}`,
      options,
    );
    await ledger.runAll(stages, `sr2se experiment --out ${args.out} --queue`, (i, n) => {
      void ctx.progress(Math.round((100 * i) / n)).catch(() => {});
    });
    return { seed: args.seed, stages: stages.length };
  },
});

/** Runs the given seeds' stages as `experiment-seed` jobs on the queue at `url`; resolves once all are done. */
export async function runSeedsOverQueue(
  url: string,
  out: string,
  options: ExperimentOptions,
  srDpoRef: string | null,
  seeds: number[],
): Promise<void> {
  const hash = optionsHash(options);
  const ref = srDpoRef === "--ref" || srDpoRef === "--reference" ? srDpoRef : null;
  const shown = new Map<number, number>();
  const say = (line: string) => process.stderr.write(`experiment: ${line}\n`);
  say(
    `${seeds.length} seed${seeds.length > 1 ? "s" : ""} on the queue, one job each (${resolve(out)} must be mounted at this path on every worker)`,
  );
  await runChunks<ExperimentSeedArgs, ExperimentSeedResult>({
    url,
    kind: experimentSeedJob.name,
    chunks: seeds.map((seed) => ({ out: resolve(out), seed, optionsHash: hash, srDpoRef: ref })),
    // a job is a seed's hours of work: a worker stopped by a signal fails its try, and the next one resumes
    attempts: 5,
    log: say,
    onProgress: (percent, i) => {
      const seed = seeds[i] as number;
      if (shown.get(seed) === percent) return;
      shown.set(seed, percent);
      say(`seed ${seed}: ${percent}% of its stages done`);
    },
    onResult: async (result) => {
      say(`seed ${result.seed}: all ${result.stages} stages done`);
    },
  });
}
