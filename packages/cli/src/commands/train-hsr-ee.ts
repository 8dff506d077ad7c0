import { DEFAULT_HSR_EE, type HsrEeTrainingConfig, trainHsrEe } from "@sr2se/hsr-ee/tensor";
import { useFastestBackend } from "@sr2se/vlm";
import type { Command } from "commander";
import { device, givenFields, integer, number, readConfigFile } from "./args.js";

interface HsrEeFlags {
  ckpt: string;
  data: string;
  out: string;
  pairs?: string;
  config?: string;
  steps?: number;
  saveEvery?: number;
  batchSize?: number;
  lr?: number;
  gateQuestions?: number;
  calibrationQuestions?: number;
  delta?: number;
  seed?: number;
  resume?: boolean;
  device?: "cpu" | "webgpu";
}

/** Registers `sr2se train hsr-ee` under the `train` group. */
export function register(train: Command): void {
  train
    .command("hsr-ee")
    .description(
      "HSR-EE: fine-tune the policy on responses cut after each step and answered (beside whole ones), then train the gate g_φ on its trial answers and calibrate τ on val.jsonl; writes OUT/checkpoint, OUT/gate, OUT/logs/hsr-ee.jsonl",
    )
    .requiredOption("--ckpt <dir>", "the starting policy (an SFT output folder or checkpoint)")
    .requiredOption("--data <dir>", "dataset folder with train.jsonl (and val.jsonl, which calibrates τ)")
    .requiredOption("--out <dir>", "output folder")
    .option("--pairs <file>", "IPR pairs: train on their winners (judged correct) beside the gold responses")
    .option(
      "--config <file>",
      "JSON of the training fields (steps, batch_size, lr, whole_share, save_every, gate_steps, …); the flags below win",
    )
    .option("--steps <n>", "policy steps (0: the gate alone, on the starting policy)", integer(0))
    .option("--save-every <n>", "checkpoint every n policy steps (default 100)", integer(1))
    .option("--batch-size <n>", "sequences a step", integer(1))
    .option("--lr <lr>", "peak learning rate (AdamW, warmup then cosine)", number(0))
    .option("--gate-questions <n>", "training questions whose trial answers train the gate", integer(1))
    .option("--calibration-questions <n>", "validation questions that calibrate τ", integer(1))
    .option(
      "--delta <d>",
      "--tau auto's allowance below always-deep, in accuracy (0.01: one point)",
      number(0),
    )
    .option("--seed <s>", "seed of the batches and the gate", integer(0))
    .option("--resume", "continue from OUT/checkpoint exactly where it stopped")
    .option("--device <name>", "cpu or webgpu (default: the fastest CPU backend)", device)
    .addHelpText(
      "after",
      "\nExamples:\n  sr2se train hsr-ee --ckpt runs/demo/sft --data runs/demo/data --out runs/demo/hsr-ee\n  sr2se train hsr-ee --ckpt runs/demo/sft --data runs/demo/data --pairs runs/demo/ipr/pairs.jsonl --out runs/demo/hsr-ee\n",
    )
    .action(async (flags: HsrEeFlags) => {
      const backend = await useFastestBackend(flags.device);
      process.stderr.write(`hsr-ee: backend ${backend}\n`);
      // the file's fields, then the flags that were given
      const config: Partial<HsrEeTrainingConfig> = {
        ...hsrEeConfigFile(flags.config, await readConfigFile<HsrEeTrainingConfig>(flags.config)),
        ...givenFields({
          steps: flags.steps,
          save_every: flags.saveEvery,
          batch_size: flags.batchSize,
          lr: flags.lr,
          gate_questions: flags.gateQuestions,
          calibration_questions: flags.calibrationQuestions,
          tau_delta: flags.delta,
          seed: flags.seed,
        }),
      };
      if (flags.lr !== undefined) config.min_lr = flags.lr / 10;
      const result = await trainHsrEe({
        ckpt: flags.ckpt,
        data: flags.data,
        out: flags.out,
        pairs: flags.pairs,
        config,
        resume: flags.resume,
      });
      process.stdout.write(`${JSON.stringify(result)}\n`);
    });
}

/** Checks a --config file's fields: known names and finite numbers, each error naming the file and field. */
function hsrEeConfigFile(file: string | undefined, raw: object): Partial<HsrEeTrainingConfig> {
  const known = Object.keys(DEFAULT_HSR_EE);
  for (const [key, value] of Object.entries(raw)) {
    if (!known.includes(key)) throw new Error(`${file}: unknown field "${key}" (known: ${known.join(", ")})`);
    if (typeof value !== "number" || !Number.isFinite(value))
      throw new Error(`${file}: field "${key}" must be a number, not ${JSON.stringify(value)}`);
  }
  return raw as Partial<HsrEeTrainingConfig>;
}
