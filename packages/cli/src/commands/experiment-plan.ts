// The experiment's plan: its options, and the stages they make (those every seed shares, then each
// seed's), built without running anything, so that \`sr2se experiment\` and a queue worker running one
// seed's stages (queue/experiment-job.ts) build the same ones from the same options.
import { existsSync } from "node:fs";
import { cp, mkdir, readFile, rm } from "node:fs/promises";
import path from "node:path";
import { writeFileAtomic } from "@sr2se/core";
import {
  type BenchSizes,
  benchFiles,
  buildBench,
  countLines,
  evaluate,
  type Stage,
  sr2se,
} from "./stages.js";

/** The variants `--variants` accepts; `ipr-srdpo-r<R>` takes any R ≥ 2. */
export const FIXED_VARIANTS = [
  "sft",
  "sft-continued",
  "ipr-srdpo",
  "grpo-binary",
  "grpo-sr1",
  "hsr-ee",
] as const;
export const ITERATED = /^ipr-srdpo-r(\d+)$/;
/** The default list; variants whose command the CLI lacks are left out of it (and said so in the report). */
export const DEFAULT_VARIANTS = "sft,sft-continued,ipr-srdpo,ipr-srdpo-r3,grpo-binary,grpo-sr1,hsr-ee";
/** Pairs an SR-DPO step (the `train sr-dpo` default). */
export const DPO_BATCH = 8;

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

/** The rounds of self-evolution the variants need (0: none). */
export function roundsNeeded(variants: readonly string[]): number {
  let r = 0;
  for (const v of variants) {
    const m = ITERATED.exec(v);
    if (m) r = Math.max(r, Number(m[1]));
    else if (v === "ipr-srdpo") r = Math.max(r, 1);
  }
  return r;
}

/** The evaluation folder name of a variant: IPR → SR-DPO variants are the round they end at. */
export function evalTag(variant: string): string {
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

/** The experiment's stages: those every seed shares (data, benches), then each seed's, in order. */
export interface ExperimentPlan {
  shared: Stage[];
  seeds: Map<number, Stage[]>;
}

/** The ledger of the experiment's shared stages and report. */
export const experimentLedgerFile = (out: string) => path.join(out, "experiment.json");
/** The ledger of one seed's stages (its own file, so that seeds can run at once on different workers). */
export const seedLedgerFile = (out: string, seed: number) => path.join(out, `seed-${seed}`, "stages.json");

/** Builds the stages of the experiment in `out` (nothing runs). */
export function experimentPlan(
  out: string,
  o: ExperimentOptions,
  env: { srDpoRef: string | null },
): ExperimentPlan {
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
  const plan: ExperimentPlan = { shared: stages, seeds: new Map() };
  for (const s of seeds) {
    const stages: Stage[] = [];
    plan.seeds.set(s, stages);
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
  return plan;
}
