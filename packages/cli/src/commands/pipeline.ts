// `sr2se pipeline`: the whole self-improvement loop on the shapes world, one stage after another,
// each stage the same `sr2se` command a user would run (a child process, so a stage's memory is
// returned when it ends). Progress goes to stderr; OUT/pipeline.json records the finished stages,
// so a rerun after a crash or Ctrl-C skips them and resumes the interrupted one (training stages
// with --resume, predictions and IPR skip what is already written, data stages start over).
import { mkdir, readFile } from "node:fs/promises";
import path from "node:path";
import { writeFileAtomic } from "@sr2se/core";
import type { Comparison } from "@sr2se/eval";
import type { Command } from "commander";
import {
  gallerySection,
  goalStatements,
  headlineTable,
  noiseTable,
  pairStatsSection,
  popeSizeStatement,
  ReportWriter,
  resultsSection,
  trainingSection,
} from "../report/index.js";
import { integer } from "./args.js";
import { benchFiles, buildBench, compareEvals, evaluate, type Stage, StageLedger, sr2se } from "./stages.js";

/** What a pipeline run was started with; a rerun on the same folder must match it. */
interface PipelineOptions {
  seed: number;
  train: number;
  val: number;
  test: number;
  pope: number;
  mmmu: number;
  mathvista: number;
  mmvet: number;
  chair: number;
  iprShards: number;
  sftConfig?: string;
  sftSteps?: number;
  dpoSteps?: number;
  dpoEpochs: number;
  iprOptions?: string;
  world?: string;
  device?: string;
}

/** Pairs an SR-DPO step (the `train sr-dpo` default). */
const DPO_BATCH = 8;

export function register(program: Command): void {
  program
    .command("pipeline")
    .description(
      "the whole loop on the shapes world: data → SFT → benchmarks → eval → IPR pairs → SR-DPO → eval → comparison → OUT/report.md with plots (resumable)",
    )
    .requiredOption(
      "--out <dir>",
      "run folder (data/, sft/, bench/, eval/, ipr/, sr-dpo/, report.md, plots/, pipeline.json)",
    )
    .option("--seed <n>", "seed of the data (the benchmarks use seed + 1)", integer(0), 1)
    .option("--train <n>", "training samples", integer(1), 10000)
    .option("--val <n>", "validation samples", integer(0), 300)
    .option("--test <n>", "test samples", integer(0), 300)
    .option("--pope <n>", "POPE images (3 yes + 3 no questions each, per split)", integer(1), 100)
    .option("--mmmu <n>", "MMMU-style problems (0: none)", integer(0), 120)
    .option("--mathvista <n>", "MathVista-style problems (0: none)", integer(0), 120)
    .option(
      "--mmvet <n>",
      "MM-Vet-style problems, graded by the rule-based shapes-world judge (0: none)",
      integer(0),
      60,
    )
    .option("--chair <n>", "held-out POPE images described for CHAIR (0: none)", integer(0), 100)
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

/** Runs (or resumes) the pipeline in `out`, writes OUT/report.md and prints the headline table on stdout. */
export async function runPipeline(out: string, options: PipelineOptions): Promise<void> {
  await mkdir(out, { recursive: true });
  const ledger = await StageLedger.open(path.join(out, "pipeline.json"), "pipeline", options);
  const o = options;
  const p = (...parts: string[]) => path.join(out, ...parts);
  const dev = o.device ? ["--device", o.device] : [];
  const world = o.world ? ["--config", o.world] : [];
  const sizes = { pope: o.pope, mmmu: o.mmmu, mathvista: o.mathvista, mmvet: o.mmvet, chair: o.chair };
  const files = benchFiles(sizes);
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
      what: "held-out benchmark sets (sr2se data bench) and CHAIR's describe set",
      restartClean: p("bench"),
      run: () => buildBench(p("bench"), o.seed + 1, sizes, world),
    },
    {
      name: "eval-sft",
      what: "the SFT model on every benchmark (predict + eval score)",
      run: () => evaluate(p("sft"), p("bench"), p("eval", "sft"), files, dev),
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
    {
      name: "eval-sr-dpo",
      what: "the SR-DPO model on every benchmark",
      run: () => evaluate(p("sr-dpo"), p("bench"), p("eval", "sr-dpo"), files, dev),
    },
    {
      name: "compare",
      what: "SFT against SR-DPO with paired-bootstrap intervals, every benchmark in one table",
      run: async () => {
        await compareEvals(p("eval", "sft"), p("eval", "sr-dpo"), p("eval", "compare", "all.json"));
      },
    },
    {
      name: "report",
      what: "OUT/report.md with its plots (results, intervals, training curves, pairs, gallery)",
      run: () => writePipelineReport(out, o, ledger),
    },
  ];
  const started = Date.now();
  await ledger.runAll(stages, `sr2se pipeline --out ${out}`);
  const comparison = JSON.parse(await readFile(p("eval", "compare", "all.json"), "utf8")) as Comparison;
  process.stdout.write(`${headlineTable("sft", [{ variant: "sr-dpo", comparison }])}\n`);
  process.stderr.write(
    `pipeline: every stage done (${((Date.now() - started) / 1000).toFixed(0)} s this run); the report is ${p("report.md")}\n`,
  );
}

/** Writes OUT/report.md and OUT/plots/*.png of a finished pipeline run. */
async function writePipelineReport(
  out: string,
  o: PipelineOptions,
  ledger: StageLedger<PipelineOptions>,
): Promise<void> {
  const p = (...parts: string[]) => path.join(out, ...parts);
  const comparison = JSON.parse(await readFile(p("eval", "compare", "all.json"), "utf8")) as Comparison;
  const w = new ReportWriter(out);
  w.heading(1, "sr2se pipeline: SFT → IPR → SR-DPO");
  const took = ["data", "sft", "ipr", "sr-dpo"]
    .map((s) => `${s} ${Math.round(ledger.seconds(s) ?? 0)} s`)
    .join(", ");
  w.add(
    `One run, data seed ${o.seed}, benchmarks seed ${o.seed + 1}: ${o.train} training samples; POPE ${o.pope} images (${6 * o.pope} questions a split), MMMU-style ${o.mmmu}, MathVista-style ${o.mathvista}, MM-Vet-style ${o.mmvet} (rule-based shapes-world judge, not the GPT-4 grader), CHAIR on ${Math.min(o.chair, o.pope)} described held-out images. Stage times: ${took}.`,
  );
  w.heading(2, "Results");
  await resultsSection(
    w,
    "sft",
    [{ variant: "sr-dpo", comparison }],
    `one run · n = ${6 * o.pope} POPE questions a split`,
  );
  w.heading(2, "Goals");
  w.add(
    goalStatements({
      variant: "sr-dpo",
      baseline: "sft",
      vsBaseline: comparison,
      vsControls: [],
      scope: "one run",
    }),
  );
  w.heading(2, "Bench sizes and noise");
  w.add(popeSizeStatement(6 * o.pope, 1));
  w.add(noiseTable(comparison, 1));
  w.heading(2, "Preference pairs");
  await pairStatsSection(w, [{ label: "ipr", round: 1, pairs: p("ipr", "pairs.jsonl") }]);
  w.heading(2, "Training curves");
  await trainingSection(
    w,
    "training-sft",
    "SFT",
    [{ name: "sft", file: p("sft", "logs", "sft.jsonl") }],
    ["loss"],
  );
  await trainingSection(
    w,
    "training-sr-dpo",
    "SR-DPO",
    [{ name: "sr-dpo", file: p("sr-dpo", "logs", "sr-dpo.jsonl") }],
    ["loss", "rewards/margins", "logps/chosen", "rewards/accuracies"],
  );
  w.heading(2, "Gallery");
  await gallerySection(w, p("ipr", "pairs.jsonl"), [p("data", "train.jsonl")], p("data"));
  await w.write();
  await writeFileAtomic(
    p("eval", "compare", "headline.md"),
    `${headlineTable("sft", [{ variant: "sr-dpo", comparison }])}\n`,
  );
}
