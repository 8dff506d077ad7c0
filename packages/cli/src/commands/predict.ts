import { parseResponse } from "@sr2se/core";
import { generateTrials, predictionOf } from "@sr2se/hsr-ee/tensor";
import { predictFile, VLM } from "@sr2se/vlm";
import type { Command } from "commander";
import { predictOverQueue } from "../queue/predict-job.js";
import { device, integer, number } from "./args.js";
import { resolveGate, tauOption } from "./gate.js";
import { queueUrl } from "./worker.js";

interface SamplingFlags {
  maxTokens: number;
  temperature: number;
  topP?: number;
  topK?: number;
  seed: number;
  device?: "cpu" | "webgpu";
}

function samplingOptions(c: Command): Command {
  return c
    .option("--max-tokens <n>", "longest response in tokens", integer(1), 256)
    .option("--temperature <t>", "0 is greedy decoding", number(0), 0)
    .option("--top-p <p>", "nucleus sampling mass", number(0))
    .option("--top-k <k>", "sample among the k likeliest tokens", integer(1))
    .option("--seed <s>", "sampling seed", (v) => Number.parseInt(v, 10), 0)
    .option("--device <name>", "cpu or webgpu (default: the fastest CPU backend)", device);
}

/** Registers `sr2se predict` and `sr2se infer`. */
export function register(program: Command): void {
  samplingOptions(
    program
      .command("predict")
      .description(
        "answer every question of a dataset or benchmark-format file; writes Prediction records (resumable)",
      )
      .requiredOption("--ckpt <dir>", "checkpoint folder (or an SFT output folder)")
      .requiredOption(
        "--data <file>",
        "samples or a benchmark-format file (POPE, MMMU, MathVista, MM-Vet), JSONL or JSON array",
      )
      .requiredOption("--out <file>", "predictions JSONL; answers already in it are kept and skipped")
      .option("--batch-size <n>", "requests decoded together", integer(1), 32)
      .option(
        "--gate <dir>",
        "HSR-EE early exit: a gate folder (from `train hsr-ee`), or probability / always-deep; a row stops when the gate clears τ",
      )
      .option(
        "--tau <t>",
        "exit threshold in [0, 1], or auto (the gate's calibrated τ); default the gate's 0.8",
        tauOption,
      )
      .option(
        "--queue [url]",
        "hand the questions to `sr2se worker`s over BullMQ on this redis:// URL (without a value: SR2SE_REDIS_URL); same output file",
      )
      .option("--chunk-size <n>", "questions a queue job (with --queue)", integer(1), 64),
  )
    .addHelpText(
      "after",
      "\nExamples:\n  sr2se predict --queue redis://127.0.0.1:6379 --ckpt runs/demo/sft --data runs/demo/data/test.jsonl --out runs/demo/eval/test.pred.jsonl\n  sr2se predict --ckpt runs/demo/sft --data runs/demo/bench/pope_adversarial.jsonl --out runs/demo/eval/pope_adversarial.pred.jsonl\n  sr2se predict --ckpt runs/demo/hsr-ee --gate runs/demo/hsr-ee/gate --tau auto --data runs/demo/data/test.jsonl --out runs/demo/eval/test.exit.pred.jsonl\n",
    )
    .action(
      async (
        flags: SamplingFlags & {
          ckpt: string;
          data: string;
          out: string;
          batchSize: number;
          gate?: string;
          tau?: number | "auto";
          queue?: string | true;
          chunkSize: number;
        },
      ) => {
        if (flags.tau !== undefined && !flags.gate) throw new Error("--tau needs --gate");
        const sampling = {
          maxTokens: flags.maxTokens,
          temperature: flags.temperature,
          topP: flags.topP,
          topK: flags.topK,
          seed: flags.seed,
          batchSize: flags.batchSize,
        };
        const started = performance.now();
        const seconds = () => Math.round((performance.now() - started) / 10) / 100;
        if (flags.queue !== undefined) {
          if (flags.gate)
            throw new Error("--queue does not carry --gate yet: run early-exit prediction without --queue");
          const result = await predictOverQueue({
            url: queueUrl(flags.queue),
            ckpt: flags.ckpt,
            data: flags.data,
            out: flags.out,
            device: flags.device,
            sampling: Object.fromEntries(
              Object.entries(sampling).filter(([, v]) => v !== undefined),
            ) as typeof sampling,
            chunkSize: flags.chunkSize,
          });
          process.stdout.write(`${JSON.stringify({ out: flags.out, ...result, seconds: seconds() })}\n`);
          return;
        }
        const vlm = await VLM.load(flags.ckpt, { device: flags.device });
        const exit = flags.gate ? await resolveGate(flags.gate, flags.tau) : null;
        if (exit)
          process.stderr.write(`predict: gate ${exit.gate.name}, τ = ${exit.tau} (${exit.tauSource})\n`);
        const result = await predictFile(vlm, flags.data, flags.out, {
          ...sampling,
          ...(exit
            ? {
                answer: async (requests) =>
                  (await generateTrials(vlm, requests, { ...sampling, gate: exit.gate, tau: exit.tau })).map(
                    predictionOf,
                  ),
              }
            : {}),
        });
        process.stdout.write(`${JSON.stringify({ out: flags.out, ...result, seconds: seconds() })}\n`);
      },
    );

  samplingOptions(
    program
      .command("infer")
      .description("answer one question about one image and print the response")
      .requiredOption("--ckpt <dir>", "checkpoint folder (or an SFT output folder)")
      .requiredOption("--image <file>", "image file")
      .requiredOption("--question <text>", "the question")
      .option("--json", "print {response, answer, tokens, logprob} as JSON"),
  )
    .addHelpText(
      "after",
      '\nExample:\n  sr2se infer --ckpt runs/demo/sft --image runs/demo/data/images/test-000001.png --question "How many circles are there?"\n',
    )
    .action(
      async (flags: SamplingFlags & { ckpt: string; image: string; question: string; json?: boolean }) => {
        const vlm = await VLM.load(flags.ckpt, { device: flags.device });
        const [g] = await vlm.generate(
          [{ image: flags.image, messages: [{ role: "user", content: flags.question }] }],
          {
            maxTokens: flags.maxTokens,
            temperature: flags.temperature,
            topP: flags.topP,
            topK: flags.topK,
            seed: flags.seed,
          },
        );
        if (flags.json)
          process.stdout.write(
            `${JSON.stringify({ response: g.text, answer: parseResponse(g.text).answer, tokens: g.tokens, logprob: g.logprob })}\n`,
          );
        else process.stdout.write(`${g.text}\n`);
      },
    );
}
