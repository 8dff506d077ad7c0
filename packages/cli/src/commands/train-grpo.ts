import path from "node:path";
import { exists } from "@sr2se/core";
import { readDataset } from "@sr2se/data";
import {
  type GrpoConfig,
  type GrpoSample,
  REWARD_KINDS,
  type RewardKind,
  resolveGrpoConfig,
  trainGrpo,
} from "@sr2se/rl/tensor";
import { useFastestBackend } from "@sr2se/vlm";
import { type Command, InvalidArgumentError } from "commander";
import { device, givenFields, integer, number, readConfigFile } from "./args.js";

interface GrpoFlags {
  ckpt: string;
  data: string;
  out: string;
  reward?: RewardKind;
  config?: string;
  steps?: number;
  promptsPerStep?: number;
  n?: number;
  lr?: number;
  temperature?: number;
  maxResponseTokens?: number;
  klCoef?: number;
  miniBatches?: number;
  saveEvery?: number;
  evalEvery?: number;
  evalPrompts?: number;
  seed?: number;
  resume?: boolean;
  device?: "cpu" | "webgpu";
}

/** Returns the prompts of a dataset file (errors name the file and line). */
async function readPrompts(file: string): Promise<GrpoSample[]> {
  const ds = await readDataset(file);
  return ds.records.map((r) => ({
    id: r.sample.id,
    image: r.imagePath,
    question: r.sample.question,
    answer: r.sample.answer,
  }));
}

/** Parses `--reward`. */
function rewardKind(value: string): RewardKind {
  if (!(REWARD_KINDS as readonly string[]).includes(value))
    throw new InvalidArgumentError(`expected ${REWARD_KINDS.join(" or ")}, got "${value}"`);
  return value as RewardKind;
}

/** Registers `grpo` under the `train` group. */
export function register(train: Command): void {
  train
    .command("grpo")
    .description(
      "GRPO from a checkpoint against itself frozen (Vision-SR1's recipe: n samples a prompt, group advantages, verl's clipped loss + low_var_kl); writes OUT/checkpoint and OUT/logs/grpo.jsonl",
    )
    .requiredOption("--ckpt <dir>", "starting checkpoint (an SFT output folder); also the frozen reference")
    .requiredOption(
      "--data <dir>",
      "dataset folder with train.jsonl (val.jsonl gives the held-out val/* rows)",
    )
    .requiredOption("--out <dir>", "output folder (checkpoint/, logs/grpo.jsonl)")
    .option(
      "--reward <kind>",
      "vision-sr1: answer + format + the self-reward (the same policy answers from its description alone, no image); accuracy: answer + format only (the binary reward)",
      rewardKind,
    )
    .option("--config <file>", "JSON of GrpoConfig fields (steps, n, lr, kl_coef, …); the flags below win")
    .option("--steps <n>", "training steps, each one rollout batch (default 60)", integer(1))
    .option("--prompts-per-step <n>", "prompts a step, verl's rollout_batch_size (default 16)", integer(1))
    .option("--n <n>", "responses a prompt, verl's rollout.n (default 8)", integer(2))
    .option("--lr <lr>", "AdamW learning rate, constant (default 2e-5)", number(0))
    .option("--temperature <t>", "sampling temperature of both passes (default 1.0)", number(0))
    .option("--max-response-tokens <n>", "tokens a response at most (default 128)", integer(1))
    .option(
      "--kl-coef <c>",
      "weight of the low_var_kl loss against the reference (default 0.01; 0: none)",
      number(0),
    )
    .option("--mini-batches <n>", "optimizer steps a rollout batch (default 1: on-policy)", integer(1))
    .option("--save-every <n>", "checkpoint every n steps (default 10)", integer(0))
    .option(
      "--eval-every <n>",
      "held-out val/* every n steps and before the first (default 10; 0: never)",
      integer(0),
    )
    .option("--eval-prompts <n>", "held-out prompts scored, greedy (default 64)", integer(0))
    .option("--seed <n>", "seed of the prompt order and the sampling (default 0)", integer(0))
    .option(
      "--resume",
      "continue from OUT/checkpoint exactly where it stopped (its saved config; --steps may extend it)",
    )
    .option("--device <name>", "cpu or webgpu (default: the fastest CPU backend)", device)
    .addHelpText(
      "after",
      "\nExample:\n  sr2se train sft --data runs/demo/data --out runs/demo/sft\n  sr2se train grpo --ckpt runs/demo/sft --data runs/demo/data --out runs/demo/grpo --reward vision-sr1\n  sr2se train grpo --ckpt runs/demo/sft --data runs/demo/data --out runs/demo/grpo-binary --reward accuracy --steps 30\n",
    )
    .action(async (flags: GrpoFlags) => {
      // a GrpoConfig in the file's snake_case keys; the flags win
      const config: Partial<GrpoConfig> = {
        ...(await readConfigFile<GrpoConfig>(flags.config)),
        ...givenFields({
          steps: flags.steps,
          prompts_per_step: flags.promptsPerStep,
          n: flags.n,
          lr: flags.lr,
          temperature: flags.temperature,
          max_response_tokens: flags.maxResponseTokens,
          kl_coef: flags.klCoef,
          mini_batches: flags.miniBatches,
          save_every: flags.saveEvery,
          eval_every: flags.evalEvery,
          eval_prompts: flags.evalPrompts,
          seed: flags.seed,
        }),
      };

      // A bad config or bad data fails here, before any model is loaded.
      resolveGrpoConfig(config);
      const trainFile = path.join(flags.data, "train.jsonl");
      if (!(await exists(trainFile)))
        throw new Error(`${trainFile}: not found (--data must be a dataset folder with train.jsonl)`);
      const train = await readPrompts(trainFile);
      if (train.length === 0) throw new Error(`${trainFile}: no samples`);
      const valFile = path.join(flags.data, "val.jsonl");
      const val = (await exists(valFile)) ? await readPrompts(valFile) : [];
      if (
        !(await exists(path.join(flags.ckpt, "config.json"))) &&
        !(await exists(path.join(flags.ckpt, "checkpoint", "config.json")))
      )
        throw new Error(
          `${flags.ckpt}: no checkpoint here (config.json is missing; --ckpt takes an SFT output folder or its checkpoint/)`,
        );

      const backend = await useFastestBackend(flags.device);
      process.stderr.write(
        `grpo: backend ${backend}, ${train.length} training prompts, ${val.length} held-out\n`,
      );
      const result = await trainGrpo({
        ckpt: flags.ckpt,
        train,
        val,
        out: flags.out,
        reward: flags.reward,
        config,
        device: flags.device,
        resume: flags.resume,
      });
      const last: Record<string, unknown> = result.last ?? {};
      const pick = [
        "step",
        "critic/score/mean",
        "reward/accuracy",
        "response_length/mean",
        "actor/kl_loss",
        "val/reward_score",
      ];
      process.stdout.write(
        `${JSON.stringify({
          steps: result.steps,
          checkpoint: result.checkpoint,
          log: path.join(flags.out, "logs", "grpo.jsonl"),
          last: Object.fromEntries(pick.filter((k) => k in last).map((k) => [k, last[k]])),
        })}\n`,
      );
    });
}
