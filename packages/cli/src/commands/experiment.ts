// `sr2se experiment`: the self-evolution experiment over seeds. One data set and one validation and one test
// bench shared by everything; per seed one SFT shared by the variants (SFT, the compute-matched SFT
// continuation, IPR → SR-DPO for one and for R rounds, and GRPO and HSR-EE where the CLI has them); paired
// bootstrap comparisons against SFT pooled over seeds and per seed; DIR/report.md with plots. Resumable:
// DIR/experiment.json records the shared stages and the report, seed-<s>/stages.json each seed's, and a
// rerun skips what they hold. The stages themselves are built in experiment-plan.ts; with --queue each
// seed's run as one job on a worker (queue/experiment-job.ts).
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { readJsonl, writeFileAtomic } from "@sr2se/core";
import { type ComparableResult, type Comparison, compareResults, compareResultsPooled } from "@sr2se/eval";
import { type Command, InvalidArgumentError } from "commander";
import {
  gallerySection,
  goalStatements,
  headlineTable,
  type IprRun,
  noiseTable,
  pairStatsSection,
  popeSizeStatement,
  ReportWriter,
  type RoundPoint,
  resultsSection,
  roundsSection,
  type TrainingLog,
  trainingSection,
  type VariantComparison,
} from "../report/index.js";
import { device, integer, queueUrl } from "./args.js";
import {
  DEFAULT_VARIANTS,
  type ExperimentOptions,
  evalTag,
  experimentLedgerFile,
  experimentPlan,
  FIXED_VARIANTS,
  ITERATED,
  roundsNeeded,
  seedLedgerFile,
} from "./experiment-plan.js";
import { COMPARE_OPTIONS, readResults, StageLedger } from "./stages.js";

export type { ExperimentOptions };

/** Parses `--variants`: a comma-separated list of known variant names, sft among them. */
function variantList(value: string): string[] {
  const list = [
    ...new Set(
      value
        .split(",")
        .map((v) => v.trim())
        .filter(Boolean),
    ),
  ];
  for (const v of list) {
    const m = ITERATED.exec(v);
    if (m ? Number(m[1]) < 2 : !(FIXED_VARIANTS as readonly string[]).includes(v))
      throw new InvalidArgumentError(
        `unknown variant "${v}"; expected a comma-separated list of ${FIXED_VARIANTS.join(", ")}, ipr-srdpo-r<R> (R ≥ 2)`,
      );
  }
  if (!list.includes("sft"))
    throw new InvalidArgumentError(`the variants must include sft (the baseline), got "${value}"`);
  return list;
}

function reference(value: string): "previous" | "sft" {
  if (value !== "previous" && value !== "sft")
    throw new InvalidArgumentError(`expected previous or sft, got "${value}"`);
  return value;
}

/** The CLI's registered commands: `train grpo`'s and `train hsr-ee`'s flags, `predict --gate`, `train sr-dpo --ref`. */
interface Capabilities {
  grpo: boolean;
  hsrEe: boolean;
  srDpoRef: string | null;
}

function capabilities(root: Command): Capabilities {
  const sub = (c: Command | undefined, name: string) => c?.commands.find((x) => x.name() === name);
  const flags = (c: Command | undefined) => new Set((c?.options ?? []).map((o) => o.long));
  const train = sub(root, "train");
  const grpo = flags(sub(train, "grpo"));
  const hsr = flags(sub(train, "hsr-ee"));
  const predict = flags(sub(root, "predict"));
  const dpo = flags(sub(train, "sr-dpo"));
  return {
    grpo: ["--ckpt", "--data", "--out", "--reward"].every((f) => grpo.has(f)),
    hsrEe: ["--ckpt", "--data", "--out"].every((f) => hsr.has(f)) && predict.has("--gate"),
    srDpoRef: dpo.has("--ref") ? "--ref" : dpo.has("--reference") ? "--reference" : null,
  };
}

export function register(program: Command): void {
  program
    .command("experiment")
    .description(
      "the self-evolution experiment over seeds: SFT, the compute-matched SFT control, IPR → SR-DPO (1 and R rounds), GRPO and HSR-EE where available; paired bootstrap pooled over seeds; DIR/report.md with plots (resumable)",
    )
    .requiredOption(
      "--out <dir>",
      "experiment folder (data/, bench/, seed-<s>/, report.md, plots/, experiment.json)",
    )
    .option("--seeds <n>", "training seeds (1…n), one SFT each shared by the variants", integer(1), 3)
    .option(
      "--variants <list>",
      "comma-separated: sft, sft-continued, ipr-srdpo, ipr-srdpo-r<R>, grpo-binary, grpo-sr1, hsr-ee (default: those the CLI has commands for)",
    )
    .option(
      "--seed <n>",
      "seed of the data (validation bench: seed + 1, test bench: seed + 2)",
      integer(0),
      1,
    )
    .option("--train <n>", "training samples", integer(1), 10000)
    .option("--val <n>", "validation samples of the data set (SFT's validation loss)", integer(0), 300)
    .option("--test <n>", "test samples of the data set", integer(0), 300)
    .option("--pope <n>", "test POPE images (6 questions a split each)", integer(1), 200)
    .option("--mmmu <n>", "test MMMU-style problems (0: none)", integer(0), 120)
    .option("--mathvista <n>", "test MathVista-style problems (0: none)", integer(0), 120)
    .option("--mmvet <n>", "test MM-Vet-style problems, rule-based judge (0: none)", integer(0), 60)
    .option("--chair <n>", "held-out test images described for CHAIR (0: none)", integer(0), 200)
    .option(
      "--val-pope <n>",
      "validation-bench POPE images (its other sets: a quarter of the test sizes)",
      integer(1),
      50,
    )
    .option(
      "--ipr-shards <n>",
      "round r of IPR refines shard (r − 1) mod N of the training samples (1: all)",
      integer(1),
      1,
    )
    .option(
      "--ipr-options <flags>",
      'more `ipr generate` flags, e.g. "--rounds 2 --samples 4 --temperature 0,1"',
    )
    .option(
      "--reference <which>",
      "SR-DPO's frozen reference from round 2 on: previous (the round's starting policy) or sft",
      reference,
      "previous",
    )
    .option("--sft-config <file>", "`train sft --config` file; each seed adds training.seed")
    .option("--sft-steps <n>", "SFT steps (default: the SFT recipe's)", integer(1))
    .option("--dpo-epochs <n>", "SR-DPO passes over a round's pairs (steps of 8 pairs)", integer(1), 2)
    .option("--dpo-steps <n>", "SR-DPO steps a round (overrides --dpo-epochs)", integer(1))
    .option("--grpo-options <flags>", 'more `train grpo` flags, e.g. "--steps 30 --n 4"')
    .option("--hsr-ee-options <flags>", "more `train hsr-ee` flags")
    .option("--world <file>", "world config JSON for `data synth` and `data bench`")
    .option("--device <name>", "cpu or webgpu (default: the fastest CPU backend)", device)
    .option(
      "--queue [url]",
      "run each seed's stages as a job on sr2se workers at this redis://[:password@]host:port (default: SR2SE_REDIS_URL); --out must be on a file system every worker mounts at the same path",
    )
    .addHelpText(
      "after",
      "\nExamples:\n  $ sr2se experiment --out runs/exp --seeds 3\n  $ sr2se experiment --out /shared/exp --seeds 3 --queue redis://10.0.0.5:6379   # seeds at once, on workers\n  $ sr2se experiment --out runs/exp --seeds 3          # after a crash or Ctrl-C: resumes\n  $ sr2se experiment --out runs/exp-r2 --seeds 2 --variants sft,sft-continued,ipr-srdpo,ipr-srdpo-r2 --reference sft",
    )
    .action(
      async (
        flags: Omit<ExperimentOptions, "variants"> & {
          out: string;
          variants?: string;
          queue?: string | true;
        },
        command: Command,
      ) => {
        const root = command.parent as Command;
        const caps = capabilities(root);
        const { out, variants: given, queue, ...rest } = flags;
        const url = queue === undefined ? undefined : queueUrl(queue);
        const requested = given === undefined ? null : variantList(given);
        const available = (v: string) =>
          v.startsWith("grpo-") ? caps.grpo : v === "hsr-ee" ? caps.hsrEe : true;
        let variants: string[];
        const leftOut: string[] = [];
        if (requested) {
          const missing = requested.filter((v) => !available(v));
          if (missing.length)
            throw new Error(
              `--variants ${missing.join(",")}: this build of sr2se has no ${missing.some((v) => v.startsWith("grpo-")) ? "`train grpo --reward`" : "`train hsr-ee` with `predict --gate`"}; leave them out`,
            );
          variants = requested;
        } else {
          variants = variantList(DEFAULT_VARIANTS).filter(available);
          leftOut.push(...variantList(DEFAULT_VARIANTS).filter((v) => !available(v)));
        }
        if (rest.reference === "sft" && !caps.srDpoRef && variants.some((v) => ITERATED.test(v)))
          throw new Error(
            "--reference sft: `train sr-dpo` in this build has no --ref option (its reference is always its starting checkpoint); use --reference previous",
          );
        const options: ExperimentOptions = JSON.parse(JSON.stringify({ ...rest, variants }));
        let onQueue: ExperimentQueue | undefined;
        if (url !== undefined) {
          const { runSeedsOverQueue } = await import("../queue/experiment-job.js");
          onQueue = {
            url,
            runSeeds: (seeds) => runSeedsOverQueue(url, out, options, caps.srDpoRef, seeds),
          };
        }
        await runExperiment(out, options, { srDpoRef: caps.srDpoRef, leftOut, queue: onQueue });
      },
    );
}

/** Opens the ledgers of a seed's stages (moving what an older run recorded in the experiment's ledger). */
async function openSeedLedgers(
  out: string,
  o: ExperimentOptions,
  ledger: StageLedger<ExperimentOptions>,
): Promise<Map<number, StageLedger<ExperimentOptions>>> {
  const ledgers = new Map<number, StageLedger<ExperimentOptions>>();
  for (let s = 1; s <= o.seeds; s++) {
    const l = await StageLedger.open(seedLedgerFile(out, s), `experiment seed ${s}`, o);
    await ledger.moveTo(l, `seed-${s}/`);
    ledgers.set(s, l);
  }
  return ledgers;
}

/** Where `experiment --queue` sends the seeds' stages. */
export interface ExperimentQueue {
  url: string;
  /** Runs the seeds' jobs on the queue (queue/experiment-job.ts; passed in so this file has no queue dependency). */
  runSeeds(seeds: number[]): Promise<void>;
}

/**
 * Runs (or resumes) the experiment in `out`, writes DIR/report.md and prints the headline table on stdout.
 * With `queue`, the shared stages and the report run here and each seed's stages run as one job on a worker.
 */
export async function runExperiment(
  out: string,
  o: ExperimentOptions,
  env: { srDpoRef: string | null; leftOut: string[]; queue?: ExperimentQueue },
): Promise<void> {
  await mkdir(out, { recursive: true });
  const ledger = await StageLedger.open(experimentLedgerFile(out), "experiment", o);
  const p = (...parts: string[]) => path.join(out, ...parts);
  const plan = experimentPlan(out, o, env);
  const seedLedgers = await openSeedLedgers(out, o, ledger);
  const hint = `sr2se experiment --out ${out}${env.queue ? " --queue …" : ""}`;
  const started = Date.now();
  await ledger.runAll(plan.shared, hint);
  if (env.queue) {
    // only the seeds with stages left go on the queue
    const left = [...plan.seeds].filter(([s, stages]) =>
      stages.some((x) => !seedLedgers.get(s)?.isDone(x.name)),
    );
    if (left.length > 0) await env.queue.runSeeds(left.map(([s]) => s));
  } else
    for (const [s, stages] of plan.seeds)
      await (seedLedgers.get(s) as StageLedger<ExperimentOptions>).runAll(stages, hint);
  // a seed's stages read again from its ledger: on the queue, a worker wrote it
  const seconds = new Map<string, number>();
  for (const s of plan.seeds.keys()) {
    const l = await StageLedger.open(seedLedgerFile(out, s), `experiment seed ${s}`, o);
    for (const stage of plan.seeds.get(s) ?? []) {
      if (!l.isDone(stage.name))
        throw new Error(`${seedLedgerFile(out, s)}: stage "${stage.name}" is not done; rerun \`${hint}\``);
      seconds.set(stage.name, l.seconds(stage.name) ?? 0);
    }
  }
  for (const stage of plan.shared) seconds.set(stage.name, ledger.seconds(stage.name) ?? 0);
  await ledger.runAll(
    [
      {
        name: "report",
        what: "comparisons (paired bootstrap, pooled over seeds and per seed) and DIR/report.md with plots",
        run: async () => {
          await writeExperimentReport(out, o, env.leftOut, (n) => seconds.get(n));
        },
      },
    ],
    hint,
  );
  process.stdout.write(await readFile(p("comparisons", "headline.md"), "utf8"));
  process.stderr.write(
    `experiment: every stage done (${((Date.now() - started) / 1000).toFixed(0)} s this run); the report is ${p("report.md")}\n`,
  );
}

/** Each seed's test (or val) results of a variant. */
async function resultsOf(out: string, seeds: readonly number[], variant: string, bench: "test" | "val") {
  return Promise.all(
    seeds.map((s) => readResults(path.join(out, `seed-${s}`, "eval", evalTag(variant), bench))),
  );
}

/** Mean `tokens` of the predictions of an evaluation folder (null when none carry it). */
async function meanTokens(dir: string): Promise<number | null> {
  let sum = 0;
  let n = 0;
  if (!existsSync(dir)) return null;
  for (const f of await readdir(dir)) {
    if (!f.endsWith(".pred.jsonl")) continue;
    // streamed: prediction files of large benches are never held whole
    for await (const rec of readJsonl<{ tokens?: unknown }>(path.join(dir, f))) {
      const t = rec?.tokens;
      if (typeof t === "number") {
        sum += t;
        n++;
      }
    }
  }
  return n ? sum / n : null;
}

/** Writes the comparisons (DIR/comparisons/*.json), DIR/report.md and DIR/plots/*.png. */
async function writeExperimentReport(
  out: string,
  o: ExperimentOptions,
  leftOut: readonly string[],
  secondsOf: (stage: string) => number | undefined,
): Promise<void> {
  const p = (...parts: string[]) => path.join(out, ...parts);
  const seeds = Array.from({ length: o.seeds }, (_, i) => i + 1);
  const others = o.variants.filter((v) => v !== "sft");
  const R = roundsNeeded(o.variants);
  const save = async (name: string, c: Comparison) => {
    await mkdir(p("comparisons"), { recursive: true });
    await writeFileAtomic(p("comparisons", `${name}.json`), `${JSON.stringify(c, null, 2)}\n`);
    return c;
  };
  const pooled = async (base: ComparableResult[][], ours: ComparableResult[][]) =>
    compareResultsPooled(
      base.map((b, i) => ({ base: b, ours: ours[i] as ComparableResult[] })),
      COMPARE_OPTIONS,
    );
  const sftTest = await resultsOf(out, seeds, "sft", "test");
  const sftVal = await resultsOf(out, seeds, "sft", "val");
  const vsSft: VariantComparison[] = [];
  const vsSftVal: VariantComparison[] = [];
  const perSeed: Map<number, VariantComparison[]> = new Map(seeds.map((s) => [s, []]));
  for (const v of others) {
    const test = await resultsOf(out, seeds, v, "test");
    vsSft.push({ variant: v, comparison: await save(`${v}-vs-sft`, await pooled(sftTest, test)) });
    vsSftVal.push({
      variant: v,
      comparison: await save(`${v}-vs-sft.val`, await pooled(sftVal, await resultsOf(out, seeds, v, "val"))),
    });
    for (const [i, s] of seeds.entries())
      perSeed.get(s)?.push({
        variant: v,
        comparison: await save(
          `${v}-vs-sft.seed-${s}`,
          compareResults(sftTest[i] as ComparableResult[], test[i] as ComparableResult[], COMPARE_OPTIONS),
        ),
      });
  }
  const headline = headlineTable("sft", vsSft);
  await mkdir(p("comparisons"), { recursive: true });
  await writeFileAtomic(p("comparisons", "headline.md"), `${headline}\n`);

  const scope = `pooled over ${o.seeds} seed${o.seeds > 1 ? "s" : ""}`;
  const w = new ReportWriter(out);
  w.heading(1, "sr2se experiment: does self-evolution beat more training?");
  const popeQ = 6 * o.pope;
  w.add(
    [
      `Seeds 1–${o.seeds} (one SFT a seed, shared by the variants). Data: ${o.train} training samples, data seed ${o.seed}. Validation bench (seed ${o.seed + 1}): POPE ${o.valPope} images. Test bench (seed ${o.seed + 2}): POPE ${o.pope} images (${popeQ} questions a split), MMMU-style ${o.mmmu}, MathVista-style ${o.mathvista}, MM-Vet-style ${o.mmvet} (rule-based shapes-world judge, not the GPT-4 grader), CHAIR on ${Math.min(o.chair, o.pope)} described held-out images.`,
      "",
      `Variants: ${o.variants.map((v) => `\`${v}\``).join(", ")}.${leftOut.length ? ` Left out because this build of sr2se has no command for them: ${leftOut.map((v) => `\`${v}\``).join(", ")}.` : ""} SR-DPO's reference from round 2 on: ${o.reference === "sft" ? "the SFT policy" : "the previous round's policy"}.${o.iprOptions ? ` IPR flags: \`${o.iprOptions}\`.` : ""}`,
    ].join("\n"),
  );
  w.heading(2, `Results on the test bench (${scope})`);
  await resultsSection(w, "sft", vsSft, `${scope} · whiskers: 95% paired-bootstrap interval`);
  w.heading(2, "Goals");
  const selfEvolution = others.filter((v) => v === "ipr-srdpo" || ITERATED.test(v));
  if (selfEvolution.length === 0) w.add("No self-evolution variant was run, so no goal is checked.");
  for (const v of selfEvolution) {
    const vsControls: { control: string; comparison: Comparison }[] = [];
    for (const control of ["sft-continued", "grpo-binary"].filter((c) => o.variants.includes(c))) {
      const c = await pooled(
        await resultsOf(out, seeds, control, "test"),
        await resultsOf(out, seeds, v, "test"),
      );
      vsControls.push({ control, comparison: await save(`${v}-vs-${control}`, c) });
    }
    const vs = vsSft.find((x) => x.variant === v)?.comparison as Comparison;
    w.heading(3, `\`${v}\``);
    w.add(goalStatements({ variant: v, baseline: "sft", vsBaseline: vs, vsControls, scope }));
  }
  if (R > 0) {
    w.heading(2, "Per-round curves");
    const rounds: RoundPoint[] = [];
    for (let r = 1; r <= R; r++)
      rounds.push({
        round: r,
        comparison: await pooled(
          sftTest,
          await Promise.all(seeds.map((s) => readResults(p(`seed-${s}`, "eval", `round-${r}`, "test")))),
        ),
      });
    await roundsSection(w, "rounds", `IPR → SR-DPO rounds (${scope})`, rounds);
  }
  w.heading(2, "Per seed");
  for (const s of seeds) {
    w.heading(3, `Seed ${s}`);
    w.add(headlineTable("sft", perSeed.get(s) ?? []));
  }
  w.heading(2, `Validation bench (${scope})`);
  w.add("Every setting is chosen on these numbers, never on the test bench's.");
  w.add(headlineTable("sft", vsSftVal));
  w.heading(2, "Answer length");
  const tokenRows: string[] = [
    "| Variant | mean tokens an answer (test bench, all seeds) |",
    "| --- | ---: |",
  ];
  for (const v of o.variants) {
    const t = await Promise.all(seeds.map((s) => meanTokens(p(`seed-${s}`, "eval", evalTag(v), "test"))));
    const ok = t.filter((x): x is number => x !== null);
    tokenRows.push(`| ${v} | ${ok.length ? (ok.reduce((a, b) => a + b, 0) / ok.length).toFixed(1) : "–"} |`);
  }
  w.add(tokenRows.join("\n"));
  w.heading(2, "Bench sizes and noise");
  w.add(popeSizeStatement(popeQ, o.seeds));
  const first = vsSft[0];
  if (first) w.add(noiseTable(first.comparison, o.seeds));
  if (R > 0) {
    w.heading(2, "Preference pairs per round");
    const runs: IprRun[] = seeds.flatMap((s) =>
      Array.from({ length: R }, (_, i) => ({
        label: `seed ${s}`,
        round: i + 1,
        pairs: p(`seed-${s}`, `round-${i + 1}`, "ipr", "pairs.jsonl"),
      })),
    );
    await pairStatsSection(w, runs);
  }
  w.heading(2, "Training curves");
  const sftLogs: TrainingLog[] = seeds.flatMap((s) => [
    { name: `sft seed ${s}`, file: p(`seed-${s}`, "sft", "logs", "sft.jsonl") },
    ...(o.variants.includes("sft-continued")
      ? [{ name: `continued seed ${s}`, file: p(`seed-${s}`, "sft-continued", "logs", "sft.jsonl") }]
      : []),
  ]);
  await trainingSection(w, "training-sft", "SFT", sftLogs, ["loss"]);
  if (R > 0) {
    const dpoLogs = seeds.flatMap((s) =>
      Array.from({ length: R }, (_, i) => ({
        name: `seed ${s} round ${i + 1}`,
        file: p(`seed-${s}`, `round-${i + 1}`, "sr-dpo", "logs", "sr-dpo.jsonl"),
      })),
    );
    await trainingSection(w, "training-sr-dpo", "SR-DPO", dpoLogs, [
      "loss",
      "rewards/margins",
      "logps/chosen",
      "rewards/accuracies",
    ]);
  }
  const grpoLogs = seeds.flatMap((s) =>
    ["grpo-binary", "grpo-sr1"]
      .filter((v) => o.variants.includes(v))
      .map((v) => ({ name: `${v} seed ${s}`, file: p(`seed-${s}`, v, "logs", "grpo.jsonl") })),
  );
  if (grpoLogs.length)
    await trainingSection(w, "training-grpo", "GRPO", grpoLogs, [
      "critic/score/mean",
      "reward/accuracy",
      "actor/pg_loss",
      "response_length/mean",
    ]);
  if (R > 0) {
    w.heading(2, "Gallery (seed 1)");
    await gallerySection(
      w,
      p("seed-1", "round-1", "ipr", "pairs.jsonl"),
      [p("data", "train.jsonl")],
      p("data"),
    );
  }
  w.heading(2, "Stage times");
  w.add(
    [
      "| Stage | seconds |",
      "| --- | ---: |",
      ...[
        "data",
        ...seeds.flatMap((s) => [
          `seed-${s}/sft`,
          ...Array.from({ length: R }, (_, i) => `seed-${s}/round-${i + 1}/sr-dpo`),
          `seed-${s}/sft-continued`,
        ]),
      ]
        .filter((n) => secondsOf(n) !== undefined)
        .map((n) => `| ${n} | ${Math.round(secondsOf(n) ?? 0)} |`),
    ].join("\n"),
  );
  await w.write();
}
