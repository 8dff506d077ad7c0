import { readFile } from "node:fs/promises";
import { createProgress } from "@sr2se/core";
import {
  buildBenchmarks,
  checkDataset,
  resolveWorldConfig,
  synthesize,
  type WorldConfigInput,
} from "@sr2se/data";
import type { Command } from "commander";
import { integer } from "./args.js";

function seed(value: string): number | string {
  return /^-?\d+$/.test(value) ? Number(value) : value;
}

async function readConfig(file: string | undefined): Promise<WorldConfigInput> {
  if (!file) return {};
  try {
    return JSON.parse(await readFile(file, "utf8")) as WorldConfigInput;
  } catch (err) {
    throw new Error(`${file}: cannot read the world config: ${(err as Error).message}`);
  }
}

/** Registers `sr2se data synth | bench | check`. */
export function register(program: Command): void {
  const data = program
    .command("data")
    .description("datasets: generate the shapes world, build benchmark sets, check files");

  data
    .command("synth")
    .description(
      "generate a shapes-world dataset: images/, train/val/test.jsonl and manifest.json (resumable)",
    )
    .requiredOption("--out <dir>", "output folder")
    .option("--train <n>", "training samples", integer(0), 10000)
    .option("--val <n>", "validation samples", integer(0), 500)
    .option("--test <n>", "test samples", integer(0), 500)
    .option("--seed <s>", "seed (integer or string)", seed, 0)
    .option("--size <px>", "image side in pixels, 32–512 (default 48)", integer(0))
    .option("--config <file>", "world config JSON (themes, clutter, family shares, correctionShare)")
    .addHelpText(
      "after",
      "\nExample:\n  sr2se data synth --out runs/demo/data --train 10000 --val 500 --test 500 --seed 1\n",
    )
    .action(
      async (opts: {
        out: string;
        train: number;
        val: number;
        test: number;
        seed: number | string;
        size?: number;
        config?: string;
      }) => {
        const config = await readConfig(opts.config);
        if (opts.size !== undefined) config.size = opts.size;
        resolveWorldConfig(config); // a bad config fails before any output
        const total = opts.train + opts.val + opts.test;
        const progress = createProgress({ label: "synth", total, unit: "samples" });
        let last = 0;
        try {
          const manifest = await synthesize({
            out: opts.out,
            counts: { train: opts.train, val: opts.val, test: opts.test },
            seed: opts.seed,
            config,
            onProgress: (done) => {
              progress.tick(done - last);
              last = done;
            },
          });
          progress.stop();
          process.stdout.write(
            `${JSON.stringify({ out: opts.out, counts: manifest.counts, size: manifest.config.size, vocabulary_size: manifest.vocabulary_size, images: manifest.images })}\n`,
          );
        } catch (err) {
          progress.stop();
          throw err;
        }
      },
    );

  data
    .command("bench")
    .description(
      "build benchmark-format sets from held-out scenes: POPE (3 splits), MMMU-, MathVista-, MM-Vet-style",
    )
    .requiredOption("--out <dir>", "output folder")
    .option("--seed <s>", "seed (integer or string)", seed, 0)
    .option("--size <px>", "image side in pixels, 32–512 (default 48)", integer(0))
    .option("--pope <n>", "POPE images (each: 3 yes + 3 no per split)", integer(0), 100)
    .option("--mmmu <n>", "MMMU-style problems", integer(0), 120)
    .option("--mathvista <n>", "MathVista-style problems", integer(0), 120)
    .option("--mmvet <n>", "MM-Vet-style problems", integer(0), 60)
    .option("--config <file>", "world config JSON")
    .addHelpText("after", "\nExample:\n  sr2se data bench --out runs/demo/bench --seed 1 --pope 100\n")
    .action(
      async (opts: {
        out: string;
        seed: number | string;
        size?: number;
        pope: number;
        mmmu: number;
        mathvista: number;
        mmvet: number;
        config?: string;
      }) => {
        const config = await readConfig(opts.config);
        if (opts.size !== undefined) config.size = opts.size;
        const manifest = await buildBenchmarks({
          out: opts.out,
          seed: opts.seed,
          config,
          counts: { pope: opts.pope, mmmu: opts.mmmu, mathvista: opts.mathvista, mmvet: opts.mmvet },
        });
        for (const [name, f] of Object.entries(manifest.files))
          process.stdout.write(`${name}\t${f.records}\n`);
      },
    );

  data
    .command("check")
    .description("validate a dataset (JSON array or JSONL) and list every problem; exit 1 if there is any")
    .argument("<file>", "dataset file")
    .option("--max-pixels <n>", "largest accepted image (width × height)", integer(0))
    .addHelpText("after", "\nExample:\n  sr2se data check runs/demo/data/train.jsonl\n")
    .action(async (file: string, opts: { maxPixels?: number }) => {
      const report = await checkDataset(file, { maxPixels: opts.maxPixels });
      for (const p of report.problems) process.stdout.write(`${p.message}\n`);
      process.stderr.write(
        `${file}: ${report.records} records, ${report.valid} valid, ${report.problems.length} problems\n`,
      );
      if (report.problems.length > 0) process.exitCode = 1;
    });
}
