import { existsSync } from "node:fs";
import path from "node:path";
import { createProgress, readPreferencePairs, recoverDirAtomic, resolveDatasetPath } from "@sr2se/core";
import type { DpoLossOptions } from "@sr2se/sr-dpo";
import { SrDpoTrainer } from "@sr2se/sr-dpo/tensor";
import { optim } from "@sr2se/tensor";
import { configureOptimizers, VLM } from "@sr2se/vlm";
import { type Command, InvalidArgumentError } from "commander";
import { device, integer, number } from "./args.js";

interface SrDpoFlags {
  ckpt: string;
  pairs: string;
  out: string;
  images?: string;
  steps: number;
  batchSize: number;
  gradAccum: number;
  lr: number;
  warmup: number;
  beta: number;
  loss: string;
  alpha: number;
  labelSmoothing: number;
  maxGradNorm: number;
  saveEvery: number;
  guardDrop?: number;
  guardAction: "warn" | "stop";
  seed: number;
  resume?: boolean;
  device?: "cpu" | "webgpu";
}

/**
 * Resolves a pair's image against the folders it may be relative to, refusing one that leaves them
 * (`resolveDatasetPath`: `..`, absolute paths, symlinks out); errors name the pair's line.
 */
function imageResolver(pairsFile: string, imagesDir: string | undefined) {
  const roots = [imagesDir, path.dirname(path.resolve(pairsFile))].filter((r): r is string => Boolean(r));
  return (image: string, line: number): string => {
    for (const root of roots) {
      const p = resolveDatasetPath(root, image, { file: pairsFile, line });
      if (existsSync(p)) return p;
    }
    throw new Error(
      `${pairsFile}:${line}: image "${image}" not found${imagesDir ? ` under ${imagesDir}` : "; give --images DIR (the dataset folder)"}`,
    );
  };
}

/** Registers `sr-dpo` under the `train` group. */
export function register(train: Command): void {
  train
    .command("sr-dpo")
    .description(
      "SR-DPO on preference pairs (from `sr2se ipr generate`) against the frozen starting checkpoint; writes OUT/checkpoint, OUT/trainer and OUT/logs/sr-dpo.jsonl",
    )
    .requiredOption("--ckpt <dir>", "starting checkpoint (an SFT output folder); also the frozen reference")
    .requiredOption("--pairs <file>", "preference pairs JSONL (PreferencePairSchema of @sr2se/core)")
    .requiredOption("--out <dir>", "output folder")
    .option(
      "--images <dir>",
      "folder the pairs' image paths are relative to (default: the pairs file's folder)",
    )
    .option("--steps <n>", "optimizer steps", integer(1), 200)
    .option("--batch-size <n>", "pairs per micro-batch", integer(1), 8)
    .option("--grad-accum <n>", "micro-batches per optimizer step", integer(1), 1)
    .option("--lr <lr>", "peak learning rate (AdamW, linear warmup then cosine to 10%)", number(0), 5e-5)
    .option("--warmup <n>", "warmup steps", integer(0), 10)
    .option("--beta <b>", "DPO beta", number(0), 0.1)
    .option(
      "--loss <types>",
      "loss type(s), TRL's names, comma-separated (sigmoid, ipo, hinge, robust, …)",
      "sigmoid",
    )
    .option(
      "--alpha <a>",
      "weight of the NLL term on the chosen response (RPO), against likelihood displacement",
      number(0),
      0.2,
    )
    .option("--label-smoothing <e>", "conservative DPO's label smoothing", number(0), 0)
    .option("--max-grad-norm <n>", "global-norm gradient clipping (0: off)", number(0), 1)
    .option("--save-every <n>", "checkpoint every n steps", integer(1), 50)
    .option(
      "--guard-drop <nats>",
      "warn or stop when chosen log-probs fall this many nats per token below the reference",
      number(0),
    )
    .option(
      "--guard-action <a>",
      "warn or stop",
      (v) => {
        if (v !== "warn" && v !== "stop") throw new InvalidArgumentError(`expected warn or stop, got "${v}"`);
        return v;
      },
      "warn",
    )
    .option("--seed <n>", "seed of the pair order", integer(0), 0)
    .option("--resume", "continue from OUT/trainer exactly where it stopped")
    .option("--device <name>", "cpu or webgpu (default: the fastest CPU backend)", device)
    .addHelpText(
      "after",
      "\nExample:\n  sr2se ipr generate --data runs/demo/data/train.jsonl --ckpt runs/demo/sft --out runs/demo/ipr/pairs.jsonl\n  sr2se train sr-dpo --ckpt runs/demo/sft --pairs runs/demo/ipr/pairs.jsonl --images runs/demo/data --out runs/demo/sr-dpo",
    )
    .action(async (flags: SrDpoFlags) => {
      const trainerDir = path.join(flags.out, "trainer");
      // A kill between the checkpoint swap's renames leaves it beside trainerDir: put it back first.
      if (flags.resume) await recoverDirAtomic(trainerDir);
      const resuming = flags.resume && existsSync(path.join(trainerDir, "trainer_state.json"));
      if (flags.resume && !resuming)
        process.stderr.write(`sr-dpo: nothing to resume in ${trainerDir}; starting fresh\n`);

      // Bad pairs or missing images fail here, before any model is loaded.
      const pairs = await readPreferencePairs(flags.pairs);
      if (pairs.length === 0) throw new Error(`${flags.pairs}: no preference pairs`);
      const resolve = imageResolver(flags.pairs, flags.images);
      const imagePaths = new Map<string, string>();
      for (const { pair, line } of pairs) {
        if (pair.image !== undefined && !imagePaths.has(pair.image))
          imagePaths.set(pair.image, resolve(pair.image, line));
      }

      // The reference is frozen: its parameters record no graph, so scoring it costs a forward pass only.
      const reference = (await VLM.load(flags.ckpt, { device: flags.device })).requiresGrad_(false).eval();
      // On resume the trainer loads the policy's weights from its own checkpoint.
      const policy = await VLM.load(flags.ckpt, { device: flags.device });
      const resolvedPairs = pairs.map(({ pair }) =>
        pair.image === undefined ? pair : { ...pair, image: imagePaths.get(pair.image) },
      );
      const types = flags.loss
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean);
      const loss = {
        beta: flags.beta,
        lossType: types.length === 1 ? types[0] : types,
        alpha: flags.alpha,
        labelSmoothing: flags.labelSmoothing,
      } as DpoLossOptions;
      // TRL's defaults: no weight decay, AdamW's (0.9, 0.999)
      const optimizer = configureOptimizers(policy, { lr: flags.lr, weightDecay: 0, betas: [0.9, 0.999] });
      const scheduler = new optim.LambdaLR(optimizer, optim.warmupCosine(flags.warmup, flags.steps, 0.1));
      const trainer = new SrDpoTrainer({
        policy,
        reference,
        optimizer,
        scheduler,
        pairs: resolvedPairs,
        loss,
        batchSize: flags.batchSize,
        gradientAccumulationSteps: flags.gradAccum,
        maxGradNorm: flags.maxGradNorm,
        seed: flags.seed,
        metricsFile: path.join(flags.out, "logs", "sr-dpo.jsonl"),
        ...(flags.guardDrop !== undefined
          ? { likelihoodGuard: { maxDropPerToken: flags.guardDrop, action: flags.guardAction } }
          : {}),
      });
      if (resuming) {
        await trainer.resume(trainerDir).catch((err: Error) => {
          throw new Error(
            `${err.message} (to start over from the starting checkpoint, run again without --resume and with a new --out)`,
          );
        });
      }
      const todo = Math.max(0, flags.steps - trainer.step);
      const progress = createProgress({ label: "sr-dpo", total: flags.steps, unit: "steps" });
      progress.update(trainer.step);
      const result = await trainer.train(todo, {
        saveDir: trainerDir,
        saveEvery: flags.saveEvery,
        onStep: (row) =>
          progress.update(row.step, {
            loss: Number(row.loss),
            acc: Number(row["rewards/accuracies"]),
            margin: Number(row["rewards/margins"]),
          }),
      });
      progress.stop();
      await policy.save(path.join(flags.out, "checkpoint"));
      const last = result.last;
      process.stdout.write(
        `${JSON.stringify({ steps: result.steps, stopped: result.stopped, pairs: pairs.length, last, checkpoint: path.join(flags.out, "checkpoint") })}\n`,
      );
      if (result.stopped) throw new Error(`sr-dpo stopped by the likelihood guard at ${result.stopped}`);
    });
}
