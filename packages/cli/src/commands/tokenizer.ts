import { mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { Rng } from "@sr2se/core";
import { generateSample, readDataset, resolveWorldConfig } from "@sr2se/data";
import { corpusOf, trainBpe, VlmTokenizer } from "@sr2se/vlm";
import type { Command } from "commander";
import { integer } from "./args.js";

/** Registers `sr2se tokenizer train`. */
export function register(program: Command): void {
  const tokenizer = program
    .command("tokenizer")
    .description("tokenizers: train a byte-level BPE tokenizer.json");

  tokenizer
    .command("train")
    .description(
      "train a BPE tokenizer.json (with the chat and format special tokens) on a dataset's text, or on the shapes world's",
    )
    .requiredOption("--out <file>", "tokenizer.json to write")
    .option(
      "--data <file>",
      "dataset JSONL (questions, gold responses, dialogues); default: shapes-world samples",
    )
    .option("--samples <n>", "shapes-world samples to draw when no --data is given", integer(1), 5000)
    .option("--vocab-size <n>", "vocabulary size, special tokens included", integer(1), 512)
    .addHelpText(
      "after",
      "\nExample:\n  sr2se tokenizer train --data runs/demo/data/train.jsonl --out runs/demo/tokenizer.json\n",
    )
    .action(async (flags: { out: string; data?: string; samples: number; vocabSize: number }) => {
      let corpus: string[];
      if (flags.data) {
        const ds = await readDataset(flags.data, { checkImages: false });
        corpus = corpusOf(ds.records.map((r) => r.sample));
      } else {
        const config = resolveWorldConfig();
        const root = new Rng(0);
        corpus = corpusOf(
          Array.from(
            { length: flags.samples },
            (_, i) => generateSample(root, "tokenizer", i, config).sample,
          ),
        );
      }
      const json = trainBpe(corpus, { vocabSize: flags.vocabSize });
      const tok = VlmTokenizer.fromJSON(json);
      await mkdir(dirname(flags.out), { recursive: true });
      await writeFile(flags.out, JSON.stringify(json));
      const tokens = corpus.reduce((a, t) => a + tok.encode(t).length, 0);
      const chars = corpus.reduce((a, t) => a + t.length, 0);
      process.stdout.write(
        `${JSON.stringify({ out: flags.out, vocab_size: tok.vocabSize, texts: corpus.length, chars_per_token: Math.round((chars / tokens) * 100) / 100 })}\n`,
      );
    });
}
