// `sr2se pipeline`: the whole self-improvement loop on the shapes world, one stage after another,
// each stage the same `sr2se` command a user would run (a child process, so a stage's memory is
// returned when it ends). Progress goes to stderr; OUT/pipeline.json records the finished stages,
// so a rerun after a crash or Ctrl-C skips them and resumes the interrupted one (training stages
// with --resume, predictions and IPR skip what is already written, data stages start over).
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readFile, rm } from "node:fs/promises";
import path from "node:path";
import { writeFileAtomic } from "@sr2se/core";
import type { Command } from "commander";
import { integer } from "./args.js";

/** What a pipeline run was started with; a rerun on the same folder must match it. */
interface PipelineOptions {
  seed: number;
  train: number;
  val: number;
  test: number;
  pope: number;
  mmmu: number;
  mathvista: number;
  iprShards: number;
  sftConfig?: string;
  sftSteps?: number;
  dpoSteps?: number;
  dpoEpochs: number;
  iprOptions?: string;
  world?: string;
  device?: string;
}

interface PipelineState {
  version: 1;
  options: PipelineOptions;
  done: Record<string, { seconds: number; finished: string }>;
}

interface Stage {
  name: string;
  what: string;
  /** Output folder a restarted stage removes first (deterministic data stages). */
  restartClean?: string;
  run: () => Promise<void>;
}

/** Runs `sr2se …args` as a child process with inherited output; rejects with the stage's failure. */
function sr2se(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [process.argv[1], ...args], { stdio: "inherit" });
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    process.once("SIGTERM", forward);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      process.off("SIGTERM", forward);
      if (code === 0) resolve();
      else
        reject(
          new Error(
            `\`sr2se ${args.join(" ")}\` ${signal ? `was killed (${signal})` : `exited with ${code}`}`,
          ),
        );
    });
  });
}

const POPE_SPLITS = ["random", "popular", "adversarial"] as const;
/** Pairs an SR-DPO step (the `train sr-dpo` default). */
const DPO_BATCH = 8;

/** The benchmark files of the bench stage with their scorer, for the options given. */
function benchFiles(o: PipelineOptions): { file: string; bench: string; extra: string[] }[] {
  return [
    ...POPE_SPLITS.map((s) => ({ file: `pope_${s}`, bench: "pope", extra: [] as string[] })),
    ...(o.mmmu > 0 ? [{ file: "mmmu", bench: "mmmu", extra: [] }] : []),
    ...(o.mathvista > 0 ? [{ file: "mathvista", bench: "mathvista", extra: ["--quick-extract"] }] : []),
  ];
}

export function register(program: Command): void {
  program
    .command("pipeline")
    .description(
      "the whole loop on the shapes world: data → SFT → benchmarks → eval → IPR pairs → SR-DPO → eval → comparison (resumable)",
    )
    .requiredOption("--out <dir>", "run folder (data/, sft/, bench/, eval/, ipr/, sr-dpo/, pipeline.json)")
    .option("--seed <n>", "seed of the data (the benchmarks use seed + 1)", integer(0), 1)
    .option("--train <n>", "training samples", integer(1), 10000)
    .option("--val <n>", "validation samples", integer(0), 300)
    .option("--test <n>", "test samples", integer(0), 300)
    .option("--pope <n>", "POPE images (3 yes + 3 no questions each, per split)", integer(1), 100)
    .option("--mmmu <n>", "MMMU-style problems (0: none)", integer(0), 120)
    .option("--mathvista <n>", "MathVista-style problems (0: none)", integer(0), 120)
    .option("--ipr-shards <n>", "IPR refines one shard of N of the training samples (1: all)", integer(1), 5)
    .option("--sft-config <file>", "`train sft --config` file (model and training overrides)")
    .option("--sft-steps <n>", "SFT steps (default: the SFT recipe's)", integer(1))
    .option(
      "--dpo-epochs <n>",
      "SR-DPO passes over the pairs (steps of 8 pairs; a few pairs overfit fast)",
      integer(1),
      2,
    )
    .option("--dpo-steps <n>", "SR-DPO steps (overrides --dpo-epochs)", integer(1))
    .option("--ipr-options <flags>", 'more `ipr generate` flags, e.g. "--rounds 2 --format description"')
    .option("--world <file>", "world config JSON for `data synth` and `data bench`")
    .option("--device <name>", "cpu or webgpu (default: the fastest CPU backend)")
    .addHelpText(
      "after",
      "\nExample:\n  $ sr2se pipeline --out runs/demo          # about 20 minutes on 2 CPU cores\n  $ sr2se pipeline --out runs/demo          # after a crash or Ctrl-C: resumes",
    )
    .action(async (flags: PipelineOptions & { out: string }) => {
      const { out, ...given } = flags;
      const options: PipelineOptions = JSON.parse(JSON.stringify(given));
      await runPipeline(out, options);
    });
}

/** Runs (or resumes) the pipeline in `out`. */
export async function runPipeline(out: string, options: PipelineOptions): Promise<void> {
  await mkdir(out, { recursive: true });
  const stateFile = path.join(out, "pipeline.json");
  let state: PipelineState = { version: 1, options, done: {} };
  if (existsSync(stateFile)) {
    let previous: PipelineState;
    try {
      previous = JSON.parse(await readFile(stateFile, "utf8"));
    } catch (err) {
      throw new Error(`${stateFile}: ${(err as Error).message} (delete it to start over)`);
    }
    for (const key of new Set([...Object.keys(previous.options ?? {}), ...Object.keys(options)]) as Set<
      keyof PipelineOptions
    >) {
      if (JSON.stringify(previous.options?.[key]) !== JSON.stringify(options[key]))
        throw new Error(
          `${stateFile}: this run was started with ${key} = ${JSON.stringify(previous.options?.[key])}, now ${JSON.stringify(options[key])}; rerun with the same options or use another --out`,
        );
    }
    state = { ...previous, done: previous.done ?? {} };
  }
  const save = () => writeFileAtomic(stateFile, `${JSON.stringify(state, null, 2)}\n`);
  await save();

  const o = options;
  const p = (...parts: string[]) => path.join(out, ...parts);
  const dev = o.device ? ["--device", o.device] : [];
  const world = o.world ? ["--config", o.world] : [];
  const evaluate = (model: string, tag: string) => async () => {
    await mkdir(p("eval", tag), { recursive: true });
    const results: unknown[] = [];
    for (const b of benchFiles(o)) {
      const data = p("bench", `${b.file}.jsonl`);
      const pred = p("eval", tag, `${b.file}.pred.jsonl`);
      const result = p("eval", tag, `${b.file}.json`);
      await sr2se(["predict", "--ckpt", p(model), "--data", data, "--out", pred, ...dev]);
      await sr2se([
        "eval",
        "score",
        "--bench",
        b.bench,
        "--data",
        data,
        "--pred",
        pred,
        "--out",
        result,
        ...b.extra,
      ]);
      results.push(JSON.parse(await readFile(result, "utf8")));
    }
    await writeFileAtomic(p("eval", tag, "all.json"), `${JSON.stringify(results, null, 2)}\n`);
  };
  const stages: Stage[] = [
    {
      name: "data",
      what: "the shapes world (sr2se data synth)",
      restartClean: p("data"),
      run: () =>
        sr2se([
          "data",
          "synth",
          "--out",
          p("data"),
          "--train",
          String(o.train),
          "--val",
          String(o.val),
          "--test",
          String(o.test),
          "--seed",
          String(o.seed),
          ...world,
        ]),
    },
    {
      name: "sft",
      what: "vision pretraining and supervised fine-tuning (sr2se train sft)",
      run: () =>
        sr2se([
          "train",
          "sft",
          "--data",
          p("data"),
          "--out",
          p("sft"),
          "--resume",
          ...(o.sftConfig ? ["--config", o.sftConfig] : []),
          ...(o.sftSteps ? ["--steps", String(o.sftSteps)] : []),
          ...dev,
        ]),
    },
    {
      name: "bench",
      what: "held-out benchmark sets (sr2se data bench)",
      restartClean: p("bench"),
      run: () =>
        sr2se([
          "data",
          "bench",
          "--out",
          p("bench"),
          "--seed",
          String(o.seed + 1),
          "--pope",
          String(o.pope),
          "--mmmu",
          String(o.mmmu),
          "--mathvista",
          String(o.mathvista),
          "--mmvet",
          "0",
          ...world,
        ]),
    },
    {
      name: "eval-sft",
      what: "the SFT model on every benchmark (predict + eval score)",
      run: evaluate("sft", "sft"),
    },
    {
      name: "ipr",
      what: "preference pairs from the SFT model's mistakes (sr2se ipr generate)",
      run: async () => {
        await mkdir(p("ipr"), { recursive: true });
        await sr2se([
          "ipr",
          "generate",
          "--data",
          p("data", "train.jsonl"),
          "--ckpt",
          p("sft"),
          "--out",
          p("ipr", "pairs.jsonl"),
          ...(o.iprShards > 1 ? ["--shard", `0/${o.iprShards}`] : []),
          ...(o.iprOptions ? o.iprOptions.trim().split(/\s+/) : []),
        ]);
        const pairs = (await readFile(p("ipr", "pairs.jsonl"), "utf8").catch(() => "")).trim();
        if (!pairs)
          throw new Error(
            `no preference pairs in ${p("ipr", "pairs.jsonl")}: the SFT model was right everywhere or never corrected itself (see ${p("ipr", "pairs.stats.json")}); try --ipr-shards 1 (every training sample) or looser filters (--ipr-options "--format description")`,
          );
      },
    },
    {
      name: "sr-dpo",
      what: "SR-DPO on the pairs against the frozen SFT model (sr2se train sr-dpo)",
      run: async () => {
        const pairs = (await readFile(p("ipr", "pairs.jsonl"), "utf8"))
          .split("\n")
          .filter((l) => l.trim()).length;
        const steps = o.dpoSteps ?? Math.max(1, Math.ceil((o.dpoEpochs * pairs) / DPO_BATCH));
        await sr2se([
          "train",
          "sr-dpo",
          "--ckpt",
          p("sft"),
          "--pairs",
          p("ipr", "pairs.jsonl"),
          "--images",
          p("data"),
          "--out",
          p("sr-dpo"),
          "--steps",
          String(steps),
          "--batch-size",
          String(DPO_BATCH),
          "--resume",
          ...dev,
        ]);
      },
    },
    { name: "eval-sr-dpo", what: "the SR-DPO model on every benchmark", run: evaluate("sr-dpo", "sr-dpo") },
    {
      name: "compare",
      what: "SFT against SR-DPO with paired-bootstrap intervals (sr2se eval compare), one table a benchmark",
      run: async () => {
        await mkdir(p("eval", "compare"), { recursive: true });
        for (const b of benchFiles(o))
          await sr2se([
            "eval",
            "compare",
            p("eval", "sft", `${b.file}.json`),
            p("eval", "sr-dpo", `${b.file}.json`),
            "--out",
            p("eval", "compare", `${b.file}.json`),
          ]);
      },
    },
  ];

  const started = Date.now();
  for (const [i, stage] of stages.entries()) {
    const tag = `pipeline [${i + 1}/${stages.length}] ${stage.name}`;
    if (state.done[stage.name]) {
      process.stderr.write(
        `${tag}: done earlier (${state.done[stage.name].seconds.toFixed(0)} s), skipped\n`,
      );
      continue;
    }
    process.stderr.write(`${tag}: ${stage.what}\n`);
    if (stage.restartClean) await rm(stage.restartClean, { recursive: true, force: true });
    const t0 = Date.now();
    try {
      await stage.run();
    } catch (err) {
      throw new Error(
        `pipeline stage "${stage.name}" failed: ${(err as Error).message}\nFix the cause and rerun \`sr2se pipeline --out ${out}\` with the same options: finished stages are skipped.`,
      );
    }
    state.done[stage.name] = { seconds: (Date.now() - t0) / 1000, finished: new Date().toISOString() };
    await save();
  }
  process.stderr.write(
    `pipeline: every stage done (${((Date.now() - started) / 1000).toFixed(0)} s this run); the comparisons are in ${p("eval", "compare")}\n`,
  );
}
