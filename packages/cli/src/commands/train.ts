import { type SftConfigFile, trainSft, useFastestBackend } from "@sr2se/vlm";
import type { Command } from "commander";
import { device, integer, readConfigFile } from "./args.js";

/** Registers `sft` under the `train` group. */
export function register(train: Command): void {
  train
    .command("sft")
    .description(
      "supervised fine-tuning on a dataset's gold responses; writes OUT/checkpoint and OUT/logs/sft.jsonl",
    )
    .requiredOption("--data <dir>", "dataset folder with train.jsonl (and val.jsonl for validation)")
    .requiredOption("--out <dir>", "output folder (checkpoint/, logs/sft.jsonl)")
    .option("--config <file>", "JSON: model overrides (vision_config, text_config, …) and a training section")
    .option("--steps <n>", "optimizer steps (overrides training.steps)", integer(1))
    .option("--resume", "continue from OUT/checkpoint, exactly where it stopped")
    .option("--device <name>", "cpu or webgpu (default: the fastest CPU backend)", device)
    .addHelpText(
      "after",
      "\nExample:\n  sr2se data synth --out runs/demo/data --seed 1\n  sr2se train sft --data runs/demo/data --out runs/demo/sft\n",
    )
    .action(
      async (flags: {
        data: string;
        out: string;
        config?: string;
        steps?: number;
        resume?: boolean;
        device?: "cpu" | "webgpu";
      }) => {
        const config = await readConfigFile<SftConfigFile>(flags.config);
        const backend = await useFastestBackend(flags.device);
        process.stderr.write(`sft: backend ${backend}\n`);
        const result = await trainSft({
          data: flags.data,
          out: flags.out,
          config,
          steps: flags.steps,
          resume: flags.resume,
        });
        process.stdout.write(`${JSON.stringify(result)}\n`);
      },
    );
}
