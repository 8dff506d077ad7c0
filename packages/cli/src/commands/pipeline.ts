// `sr2se pipeline`: the whole self-improvement loop on the shapes world, one stage after another
// in the order the seed's scripts run them (IPR data, then HSR-EE training, then SR-DPO from the
// HSR-EE policy, then the gate trained again on the policy SR-DPO changed),
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
import {
  benchFiles,
  buildBench,
  compareEvals,
  countLines,
  evaluate,
  type Stage,
  StageLedger,
  sr2se,
} from "./stages.js";

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
  hsrEeSteps?: number;
  hsrEeOptions?: string;
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
      "the whole loop on the shapes world: data → SFT → benchmarks → eval → IPR pairs → HSR-EE → SR-DPO → the gate again → eval (with and without early exit) → comparison → OUT/report.md with plots (resumable)",
    )
    .requiredOption(
      "--out <dir>",
      "run folder (data/, sft/, bench/, eval/, ipr/, hsr-ee/, sr-dpo/, gate/, report.md, plots/, pipeline.json)",
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
    .option("--hsr-ee-steps <n>", "HSR-EE policy steps (default: the HSR-EE recipe's)", integer(0))
    .option(
      "--hsr-ee-options <flags>",
      'more `train hsr-ee` flags for the HSR-EE and gate stages, e.g. "--gate-questions 128"',
    )
    .option("--ipr-options <flags>", 'more `ipr generate` flags, e.g. "--rounds 2 --format description"')
    .option("--world <file>", "world config JSON for `data synth` and `data bench`")
    .option("--device <name>", "cpu or webgpu (default: the fastest CPU backend)")
    .addHelpText(
      "after",
      "\nExample:\n  $ sr2se pipeline --out runs/demo          # about 22 min on 2 CPU cores (docs/results/pipeline.md)\n  $ sr2se pipeline --out runs/demo          # after a crash or Ctrl-C: resumes",
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
  const hsrEeFlags = o.hsrEeOptions ? o.hsrEeOptions.trim().split(/\s+/) : [];
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
        if ((await countLines(p("ipr", "pairs.jsonl"))) === 0)
          throw new Error(
            `no preference pairs in ${p("ipr", "pairs.jsonl")}: the SFT model was right everywhere or never corrected itself (see ${p("ipr", "pairs.stats.json")}); try --ipr-shards 1 (every training sample) or looser filters (--ipr-options "--format description")`,
          );
      },
    },
    {
      name: "hsr-ee",
      what: "HSR-EE: the SFT policy trained to answer after any step on the gold responses and IPR's winners, then the gate g_φ and τ (sr2se train hsr-ee)",
      run: () =>
        sr2se([
          "train",
          "hsr-ee",
          "--ckpt",
          p("sft"),
          "--data",
          p("data"),
          "--pairs",
          p("ipr", "pairs.jsonl"),
          "--out",
          p("hsr-ee"),
          "--resume",
          ...(o.hsrEeSteps !== undefined ? ["--steps", String(o.hsrEeSteps)] : []),
          ...hsrEeFlags,
          ...dev,
        ]),
    },
    {
      name: "sr-dpo",
      what: "SR-DPO on the pairs from the HSR-EE policy, against it frozen (sr2se train sr-dpo)",
      run: async () => {
        const pairs = await countLines(p("ipr", "pairs.jsonl"));
        const steps = o.dpoSteps ?? Math.max(1, Math.ceil((o.dpoEpochs * pairs) / DPO_BATCH));
        await sr2se([
          "train",
          "sr-dpo",
          "--ckpt",
          p("hsr-ee", "checkpoint"),
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
      name: "gate",
      what: "the gate g_φ trained again, and τ calibrated again, on the policy SR-DPO changed (sr2se train hsr-ee --steps 0)",
      run: () =>
        sr2se([
          "train",
          "hsr-ee",
          "--ckpt",
          p("sr-dpo"),
          "--data",
          p("data"),
          "--out",
          p("gate"),
          "--resume",
          ...hsrEeFlags,
          "--steps",
          "0",
          ...dev,
        ]),
    },
    {
      name: "eval-sr-dpo",
      what: "the SR-DPO model on every benchmark",
      run: () => evaluate(p("sr-dpo"), p("bench"), p("eval", "sr-dpo"), files, dev),
    },
    {
      name: "eval-hsr-ee",
      what: "the SR-DPO model on the test set with and without early exit: accuracy and tokens over τ, the gate's calibration (sr2se eval hsr-ee)",
      run: () =>
        sr2se([
          "eval",
          "hsr-ee",
          "--ckpt",
          p("sr-dpo"),
          "--gate",
          p("gate", "gate"),
          "--data",
          p("data", "test.jsonl"),
          "--out",
          p("eval", "hsr-ee"),
          "--tau",
          "auto",
          ...dev,
        ]),
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
  process.stdout.write(`${earlyExitLine(await readEarlyExit(p("eval", "hsr-ee", "hsr-ee.json")))}\n`);
  process.stderr.write(
    `pipeline: every stage done (${((Date.now() - started) / 1000).toFixed(0)} s this run); the report is ${p("report.md")}\n`,
  );
}

/** What the pipeline reads of `eval hsr-ee`'s summary. */
interface EarlyExitSummary {
  questions: number;
  tau: number;
  tau_source: string;
  always_deep: { accuracy: number; mean_tokens: number };
  operating_point: { accuracy: number; meanTokens: number; tokens_ratio: number; meanExitStep: number };
  calibration: { gate: string; auroc: number | null; ece: number; brier: number }[];
}

async function readEarlyExit(file: string): Promise<EarlyExitSummary> {
  return JSON.parse(await readFile(file, "utf8")) as EarlyExitSummary;
}

const pct = (x: number) => (100 * x).toFixed(1);

/** Returns one line: test accuracy and tokens with and without early exit. */
function earlyExitLine(e: EarlyExitSummary): string {
  const op = e.operating_point;
  return `Early exit (HSR-EE, test, n = ${e.questions}): always deep ${pct(e.always_deep.accuracy)}% at ${e.always_deep.mean_tokens.toFixed(1)} tokens; g_φ at τ = ${e.tau} (${e.tau_source}) ${pct(op.accuracy)}% at ${op.meanTokens.toFixed(1)} tokens (${pct(op.tokens_ratio)}% of always deep's)`;
}

/** Returns the report's early-exit table: accuracy and tokens with and without it, and the gates' calibration. */
function earlyExitSection(e: EarlyExitSummary): string {
  const op = e.operating_point;
  const rows = [
    "| | accuracy % | mean tokens | tokens / always deep | mean exit step |",
    "|---|---|---|---|---|",
    `| always deep (no early exit) | ${pct(e.always_deep.accuracy)} | ${e.always_deep.mean_tokens.toFixed(1)} | 1.000 | — |`,
    `| g_φ, τ = ${e.tau} (${e.tau_source}) | ${pct(op.accuracy)} | ${op.meanTokens.toFixed(1)} | ${op.tokens_ratio.toFixed(3)} | ${op.meanExitStep.toFixed(2)} |`,
    "",
    "| gate | AUROC | ECE (10 bins) | Brier |",
    "|---|---|---|---|",
    ...e.calibration.map(
      (c) => `| ${c.gate} | ${c.auroc?.toFixed(3) ?? "—"} | ${c.ece.toFixed(3)} | ${c.brier.toFixed(3)} |`,
    ),
  ];
  return rows.join("\n");
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
  w.heading(1, "sr2se pipeline: SFT → IPR → HSR-EE → SR-DPO");
  const took = ["data", "sft", "ipr", "hsr-ee", "sr-dpo", "gate"]
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
  w.heading(2, "Early exit");
  const exit = await readEarlyExit(p("eval", "hsr-ee", "hsr-ee.json"));
  w.add(
    `The SR-DPO policy on the ${exit.questions} test questions, answering after every step; the gate g_φ was trained again on this policy (stage \`gate\`), since SR-DPO moved the hidden states and trial answers it reads. Curve and exit steps: [eval/hsr-ee/hsr-ee.md](eval/hsr-ee/hsr-ee.md).`,
  );
  w.add(earlyExitSection(exit));
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
