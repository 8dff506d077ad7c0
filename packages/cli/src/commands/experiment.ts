// `sr2se experiment`: the self-evolution experiment over seeds. One data set and one validation and one test
// bench shared by everything; per seed one SFT shared by the variants (SFT, the compute-matched SFT
// continuation, IPR → SR-DPO for one and for R rounds, and GRPO and HSR-EE where the CLI has them); paired
// bootstrap comparisons against SFT pooled over seeds and per seed; DIR/report.md with plots. Resumable:
// DIR/experiment.json records finished stages, and a rerun skips them.
import { existsSync } from "node:fs";
import { cp, mkdir, readdir, readFile, rm } from "node:fs/promises";
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
import { device, integer } from "./args.js";
import {
  type BenchSizes,
  benchFiles,
  buildBench,
  COMPARE_OPTIONS,
  countLines,
  evaluate,
  readResults,
  type Stage,
  StageLedger,
  sr2se,
} from "./stages.js";

/** The variants `--variants` accepts; `ipr-srdpo-r<R>` takes any R ≥ 2. */
const FIXED_VARIANTS = ["sft", "sft-continued", "ipr-srdpo", "grpo-binary", "grpo-sr1", "hsr-ee"] as const;
const ITERATED = /^ipr-srdpo-r(\d+)$/;
/** The default list; variants whose command the CLI lacks are left out of it (and said so in the report). */
const DEFAULT_VARIANTS = "sft,sft-continued,ipr-srdpo,ipr-srdpo-r3,grpo-binary,grpo-sr1,hsr-ee";
/** Pairs an SR-DPO step (the `train sr-dpo` default). */
const DPO_BATCH = 8;

/** What an experiment was started with; a rerun on the same folder must match it. */
export interface ExperimentOptions {
  seeds: number;
  variants: string[];
  seed: number;
  train: number;
  val: number;
  test: number;
  pope: number;
  mmmu: number;
  mathvista: number;
  mmvet: number;
  chair: number;
  valPope: number;
  iprShards: number;
  iprOptions?: string;
  reference: "previous" | "sft";
  sftConfig?: string;
  sftSteps?: number;
  dpoEpochs: number;
  dpoSteps?: number;
  grpoOptions?: string;
  hsrEeOptions?: string;
  world?: string;
  device?: string;
}

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
    .addHelpText(
      "after",
      "\nExamples:\n  $ sr2se experiment --out runs/exp --seeds 3\n  $ sr2se experiment --out runs/exp --seeds 3          # after a crash or Ctrl-C: resumes\n  $ sr2se experiment --out runs/exp-r2 --seeds 2 --variants sft,sft-continued,ipr-srdpo,ipr-srdpo-r2 --reference sft",
    )
    .action(
      async (
        flags: Omit<ExperimentOptions, "variants"> & { out: string; variants?: string },
        command: Command,
      ) => {
        const root = command.parent as Command;
        const caps = capabilities(root);
        const { out, variants: given, ...rest } = flags;
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
        await runExperiment(out, options, { srDpoRef: caps.srDpoRef, leftOut });
      },
    );
}

/** The rounds of self-evolution the variants need (0: none). */
function roundsNeeded(variants: readonly string[]): number {
  let r = 0;
  for (const v of variants) {
    const m = ITERATED.exec(v);
    if (m) r = Math.max(r, Number(m[1]));
    else if (v === "ipr-srdpo") r = Math.max(r, 1);
  }
  return r;
}

/** The evaluation folder name of a variant: IPR → SR-DPO variants are the round they end at. */
function evalTag(variant: string): string {
  const m = ITERATED.exec(variant);
  return m ? `round-${m[1]}` : variant === "ipr-srdpo" ? "round-1" : variant;
}

/** Merges `{"training": {"seed": s}}` into the SFT config file's object (or an empty one). */
async function seededSftConfig(file: string | undefined, seed: number): Promise<Record<string, unknown>> {
  let base: Record<string, unknown> = {};
  if (file) {
    try {
      base = JSON.parse(await readFile(file, "utf8")) as Record<string, unknown>;
    } catch (err) {
      throw new Error(`--sft-config ${file}: ${(err as Error).message}`);
    }
  }
  const training = (base.training ?? {}) as Record<string, unknown>;
  return { ...base, training: { ...training, seed } };
}

/** The optimizer step an SFT checkpoint reached (its trainer_state.json). */
async function sftStep(dir: string): Promise<number> {
  const file = path.join(dir, "checkpoint", "trainer_state.json");
  try {
    return Number((JSON.parse(await readFile(file, "utf8")) as { step: number }).step);
  } catch (err) {
    throw new Error(`${file}: ${(err as Error).message}`);
  }
}

/** Runs (or resumes) the experiment in `out`, writes DIR/report.md and prints the headline table on stdout. */
export async function runExperiment(
  out: string,
  o: ExperimentOptions,
  env: { srDpoRef: string | null; leftOut: string[] },
): Promise<void> {
  await mkdir(out, { recursive: true });
  const ledger = await StageLedger.open(path.join(out, "experiment.json"), "experiment", o);
  const p = (...parts: string[]) => path.join(out, ...parts);
  const dev = o.device ? ["--device", o.device] : [];
  const world = o.world ? ["--config", o.world] : [];
  const test: BenchSizes = {
    pope: o.pope,
    mmmu: o.mmmu,
    mathvista: o.mathvista,
    mmvet: o.mmvet,
    chair: o.chair,
  };
  const quarter = (n: number) => Math.ceil(n / 4);
  const val: BenchSizes = {
    pope: o.valPope,
    mmmu: quarter(o.mmmu),
    mathvista: quarter(o.mathvista),
    mmvet: quarter(o.mmvet),
    chair: o.chair > 0 ? o.valPope : 0,
  };
  const R = roundsNeeded(o.variants);
  const seeds = Array.from({ length: o.seeds }, (_, i) => i + 1);
  const has = (v: string) => o.variants.includes(v);
  const evalStages = (s: number, tag: string, ckpt: string, extra: string[] = []): Stage[] =>
    (["test", "val"] as const).map((bench) => ({
      name: `seed-${s}/eval/${tag}/${bench}`,
      what: `seed ${s}: ${tag} on the ${bench} benches (predict + eval score)`,
      run: () =>
        evaluate(
          ckpt,
          p("bench", bench),
          p(`seed-${s}`, "eval", tag, bench),
          benchFiles(bench === "test" ? test : val),
          [...dev, ...extra],
        ),
    }));
  const dpoSteps = async (pairs: string) =>
    o.dpoSteps ?? Math.max(1, Math.ceil((o.dpoEpochs * (await countLines(pairs))) / DPO_BATCH));

  const stages: Stage[] = [
    {
      name: "data",
      what: "the shared data set (sr2se data synth)",
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
      name: "bench/val",
      what: "the validation bench (settings are chosen here, never on the test bench)",
      restartClean: p("bench", "val"),
      run: () => buildBench(p("bench", "val"), o.seed + 1, val, world),
    },
    {
      name: "bench/test",
      what: "the held-out test bench",
      restartClean: p("bench", "test"),
      run: () => buildBench(p("bench", "test"), o.seed + 2, test, world),
    },
  ];
  for (const s of seeds) {
    const sd = (...parts: string[]) => p(`seed-${s}`, ...parts);
    const config = p("configs", `sft-seed-${s}.json`);
    stages.push({
      name: `seed-${s}/sft`,
      what: `seed ${s}: SFT (sr2se train sft, training.seed = ${s})`,
      run: async () => {
        await mkdir(p("configs"), { recursive: true });
        await writeFileAtomic(config, `${JSON.stringify(await seededSftConfig(o.sftConfig, s), null, 2)}\n`);
        await sr2se([
          "train",
          "sft",
          "--data",
          p("data"),
          "--out",
          sd("sft"),
          "--config",
          config,
          "--resume",
          ...(o.sftSteps ? ["--steps", String(o.sftSteps)] : []),
          ...dev,
        ]);
      },
    });
    stages.push(...evalStages(s, "sft", sd("sft")));
    for (let r = 1; r <= R; r++) {
      const policy = r === 1 ? sd("sft") : sd(`round-${r - 1}`, "sr-dpo");
      const pairs = sd(`round-${r}`, "ipr", "pairs.jsonl");
      stages.push(
        {
          name: `seed-${s}/round-${r}/ipr`,
          what: `seed ${s}, round ${r}: preference pairs from round ${r - 1}'s policy (sr2se ipr generate)`,
          run: async () => {
            await mkdir(path.dirname(pairs), { recursive: true });
            await sr2se([
              "ipr",
              "generate",
              "--data",
              p("data", "train.jsonl"),
              "--ckpt",
              policy,
              "--out",
              pairs,
              "--seed",
              String(1000 * s + r),
              "--policy-name",
              r === 1 ? `sft@seed-${s}` : `round-${r - 1}@seed-${s}`,
              ...(o.iprShards > 1 ? ["--shard", `${(r - 1) % o.iprShards}/${o.iprShards}`] : []),
              ...(o.iprOptions ? o.iprOptions.trim().split(/\s+/) : []),
            ]);
            if ((await countLines(pairs)) === 0)
              throw new Error(
                `no preference pairs in ${pairs} (see its .stats.json): refine more samples or loosen the filters (--ipr-options)`,
              );
          },
        },
        {
          name: `seed-${s}/round-${r}/sr-dpo`,
          what: `seed ${s}, round ${r}: SR-DPO from round ${r - 1}'s policy (sr2se train sr-dpo)`,
          run: async () => {
            const ref = r > 1 && o.reference === "sft" && env.srDpoRef ? [env.srDpoRef, sd("sft")] : [];
            await sr2se([
              "train",
              "sr-dpo",
              "--ckpt",
              policy,
              ...ref,
              "--pairs",
              pairs,
              "--images",
              p("data"),
              "--out",
              sd(`round-${r}`, "sr-dpo"),
              "--steps",
              String(await dpoSteps(pairs)),
              "--batch-size",
              String(DPO_BATCH),
              "--seed",
              String(s),
              "--resume",
              ...dev,
            ]);
          },
        },
        ...evalStages(s, `round-${r}`, sd(`round-${r}`, "sr-dpo")),
      );
    }
    if (has("sft-continued")) {
      stages.push({
        name: `seed-${s}/sft-continued`,
        what: `seed ${s}: SFT continued for as many optimizer steps as the ${R} self-evolution round(s) took (the compute-matched control)`,
        run: async () => {
          let extra = 0;
          for (let r = 1; r <= R; r++) extra += await dpoSteps(sd(`round-${r}`, "ipr", "pairs.jsonl"));
          if (extra === 0)
            throw new Error(
              "sft-continued matches the self-evolution stages' steps: add ipr-srdpo or ipr-srdpo-r<R> to --variants",
            );
          const target = (await sftStep(sd("sft"))) + extra;
          // the copy starts from the finished SFT; a crash mid-copy leaves no checkpoint, so it is redone
          if (!existsSync(sd("sft-continued", "checkpoint", "trainer_state.json"))) {
            await rm(sd("sft-continued"), { recursive: true, force: true });
            await cp(sd("sft"), sd("sft-continued"), { recursive: true });
          }
          await writeFileAtomic(
            sd("sft-continued", "matched-steps.json"),
            `${JSON.stringify({ sft: target - extra, extra, target })}\n`,
          );
          await sr2se([
            "train",
            "sft",
            "--data",
            p("data"),
            "--out",
            sd("sft-continued"),
            "--config",
            config,
            "--resume",
            "--steps",
            String(target),
            ...dev,
          ]);
        },
      });
      stages.push(...evalStages(s, "sft-continued", sd("sft-continued")));
    }
    for (const [variant, reward] of [
      ["grpo-binary", "accuracy"],
      ["grpo-sr1", "vision-sr1"],
    ] as const) {
      if (!has(variant)) continue;
      stages.push({
        name: `seed-${s}/${variant}`,
        what: `seed ${s}: GRPO with the ${reward} reward from SFT (sr2se train grpo)`,
        run: () =>
          sr2se([
            "train",
            "grpo",
            "--ckpt",
            sd("sft"),
            "--data",
            p("data"),
            "--out",
            sd(variant),
            "--reward",
            reward,
            "--seed",
            String(s),
            "--resume",
            ...(o.grpoOptions ? o.grpoOptions.trim().split(/\s+/) : []),
            ...dev,
          ]),
      });
      stages.push(...evalStages(s, variant, sd(variant)));
    }
    if (has("hsr-ee")) {
      stages.push({
        name: `seed-${s}/hsr-ee`,
        what: `seed ${s}: HSR-EE's gate from SFT (sr2se train hsr-ee)`,
        run: () =>
          sr2se([
            "train",
            "hsr-ee",
            "--ckpt",
            sd("sft"),
            "--data",
            p("data"),
            "--out",
            sd("hsr-ee"),
            ...(o.hsrEeOptions ? o.hsrEeOptions.trim().split(/\s+/) : []),
            ...dev,
          ]),
      });
      stages.push(
        ...evalStages(s, "hsr-ee", sd("hsr-ee"), ["--gate", sd("hsr-ee", "gate"), "--tau", "auto"]),
      );
    }
  }
  stages.push({
    name: "report",
    what: "comparisons (paired bootstrap, pooled over seeds and per seed) and DIR/report.md with plots",
    run: async () => {
      await writeExperimentReport(out, o, env.leftOut, ledger);
    },
  });
  const started = Date.now();
  await ledger.runAll(stages, `sr2se experiment --out ${out}`);
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
  ledger: StageLedger<ExperimentOptions>,
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
        .filter((n) => ledger.seconds(n) !== undefined)
        .map((n) => `| ${n} | ${Math.round(ledger.seconds(n) ?? 0)} |`),
    ].join("\n"),
  );
  await w.write();
}
