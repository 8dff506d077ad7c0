import path from "node:path";
import { createProgress, type VisionLanguagePolicy } from "@sr2se/core";
import { DEFAULT_WORLD_CONFIG } from "@sr2se/data";
import {
  type BalanceKey,
  type FormatCheck,
  type NegativeSource,
  OpenAICompatiblePolicy,
  parseShard,
  type RefinementEngine,
  type Refiner,
  readSamples,
  runRefinement,
  type Shard,
} from "@sr2se/ipr";
import { type ChunkClient, openChunkClient } from "@sr2se/queue";
import { checkpointDirOf, checkpointHash } from "@sr2se/vlm";
import { type Command, InvalidArgumentError } from "commander";
import { type IprEngineConfig, iprEngine, queuedRefiner } from "../queue/ipr-job.js";
import { integer } from "./args.js";
import { queueUrl } from "./worker.js";

function temperatures(value: string): number[] {
  const list = value.split(",").map((v) => Number(v.trim()));
  if (list.length === 0 || list.some((t) => !Number.isFinite(t) || t < 0)) {
    throw new InvalidArgumentError(
      `expected numbers ≥ 0 separated by commas (round 0 first), got "${value}"`,
    );
  }
  return list;
}

function shard(value: string): Shard {
  try {
    return parseShard(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

function formatCheck(value: string): FormatCheck {
  if (value !== "strict" && value !== "description" && value !== "off") {
    throw new InvalidArgumentError(`expected strict, description or off, got "${value}"`);
  }
  return value;
}

function negatives(value: string): NegativeSource {
  if (value !== "refined" && value !== "random" && value !== "corrupted") {
    throw new InvalidArgumentError(`expected refined, random or corrupted, got "${value}"`);
  }
  return value;
}

function balance(value: string): BalanceKey[] {
  const keys = value.split(",").map((k) => k.trim());
  for (const k of keys) {
    if (k !== "families" && k !== "yesno")
      throw new InvalidArgumentError(`expected families, yesno or families,yesno, got "${value}"`);
  }
  return keys as BalanceKey[];
}

interface GenerateFlags {
  data: string;
  out: string;
  ckpt?: string;
  promptTemplate?: string;
  refinementTemplate?: string;
  endpoint?: string;
  model?: string;
  apiKey?: string;
  logprobs?: boolean;
  queue?: string | true;
  chunkSize: number;
  rounds: number;
  samples: number;
  temperature?: number[];
  maxTokens?: number;
  seed?: number;
  shard?: Shard;
  format: FormatCheck;
  selfReward: boolean;
  verify: boolean;
  perception?: boolean;
  auditSelfReward?: boolean;
  negatives: NegativeSource;
  balance?: BalanceKey[];
  keepSft?: boolean;
  concurrency: number;
  batchSize: number;
  maxInFlight: number;
  timeoutMs: number;
  maxErrors: number;
  policyName?: string;
}

/** Loads the in-process VLM of @sr2se/vlm from a checkpoint folder, or explains why it cannot. */
async function loadCheckpointPolicy(dir: string): Promise<VisionLanguagePolicy> {
  // a variable specifier keeps @sr2se/vlm out of the type check and the bundle: ipr never depends on it
  const specifier = "@sr2se/vlm";
  let vlm: { VLM?: { load?: (dir: string) => Promise<VisionLanguagePolicy> } };
  try {
    vlm = await import(specifier);
  } catch (err) {
    throw new Error(
      `--ckpt ${dir}: the in-process VLM (@sr2se/vlm) cannot be loaded (${(err as Error).message.split("\n")[0]}); serve the model behind an OpenAI-compatible endpoint and use --endpoint URL --model NAME`,
    );
  }
  if (typeof vlm.VLM?.load !== "function") {
    throw new Error(
      `--ckpt ${dir}: @sr2se/vlm has no VLM.load yet (the in-process VLM is not available in this build); use --endpoint URL --model NAME`,
    );
  }
  return vlm.VLM.load(dir);
}

/** Registers `sr2se ipr generate`. */
export function register(program: Command): void {
  const ipr = program
    .command("ipr")
    .description("iterative perception refinement: preference pairs from a policy's own hallucinations");

  ipr
    .command("generate")
    .description(
      "ask the policy, tell it when its description was wrong, ask again up to K rounds; write (corrected, original) pairs (resumable)",
    )
    .requiredOption("--data <file>", "samples (JSONL or a JSON array; images relative to the file)")
    .requiredOption("--out <file>", "pairs JSONL; .outcomes.jsonl and .stats.json are written next to it")
    .option("--ckpt <dir>", "checkpoint folder of the in-process VLM (@sr2se/vlm)")
    .option(
      "--prompt-template <text>",
      "the original prompt x, with {question} and {choices} (default: the question with the format instruction; with --ckpt: {question}, as the shapes-world SFT saw it)",
    )
    .option(
      "--refinement-template <text>",
      "the refinement turn (default: the re-examine instruction; with --ckpt: the one of the SFT correction dialogues)",
    )
    .option(
      "--endpoint <url>",
      "OpenAI-compatible base URL, e.g. http://127.0.0.1:8000/v1 (env OPENAI_BASE_URL)",
    )
    .option("--model <name>", "model name at the endpoint (env OPENAI_MODEL)")
    .option("--api-key <key>", "API key (env OPENAI_API_KEY)")
    .option(
      "--logprobs",
      "ask the endpoint for token log-probs, so --samples picks the most confident wrong response",
    )
    .option("--rounds <K>", "refinement rounds after round 0", integer(0), 3)
    .option(
      "--samples <n>",
      "responses a round at its temperature; the most confident wrong one is the hard negative, and a round-0 mix of right and wrong gives a pair at once",
      integer(1),
      1,
    )
    .option(
      "--temperature <list>",
      "temperature per round, round 0 first, last one repeats (default 0,0.7)",
      temperatures,
    )
    .option("--max-tokens <n>", "most tokens a response", integer(1))
    .option(
      "--seed <n>",
      "run seed: each request's sampling seed derives from it, the sample id, the round and the attempt (default 0)",
      integer(0),
    )
    .option("--shard <i/N>", "process only part i of N (by a hash of the sample id)", shard)
    .option("--format <mode>", "winner format check: strict, description or off", formatCheck, "strict")
    .option("--no-self-reward", "do not require winners to pass the Vision-SR1 self-reward check")
    .option(
      "--perception",
      "a winner's description must mention no object the scene lacks (CHAIR extractor; samples with objects)",
    )
    .option(
      "--no-verify",
      "ablation: a winner needs only the right answer (no format, perception or self-reward check)",
    )
    .option(
      "--audit-self-reward",
      "also check the gold and each round-0 description, to measure the self-reward check against the ground truth",
    )
    .option(
      "--negatives <source>",
      "losers: refined (the policy's own hallucination), random (another pair's; ablation) or corrupted (the answer about a corrupted image, STIC; ablation)",
      negatives,
      "refined",
    )
    .option(
      "--balance <keys>",
      "keep pairs balanced over question families and/or yes/no answers: families,yesno",
      balance,
    )
    .option("--keep-sft", "keep round-0 successes as SFT data (<out>.sft.jsonl)")
    .option("--concurrency <n>", "samples refined at once", integer(1), 64)
    .option("--batch-size <n>", "requests a policy call", integer(1), 16)
    .option("--max-in-flight <n>", "policy calls at once, each of up to --batch-size requests", integer(1), 4)
    .option("--timeout-ms <ms>", "HTTP request time limit for --endpoint", integer(1), 120_000)
    .option(
      "--queue [url]",
      "hand the samples to `sr2se worker`s over BullMQ on this redis:// URL (without a value: SR2SE_REDIS_URL): with --endpoint, workers started with --endpoint URL call it; with --ckpt, every worker loads the checkpoint at the same path (a different file is refused); the same output files",
    )
    .option(
      "--chunk-size <n>",
      "samples a queue job (with --queue; keep --concurrency ≥ chunk size × workers)",
      integer(1),
      16,
    )
    .option("--max-errors <n>", "abort after this many samples failed in the policy", integer(0), 10)
    .option("--policy-name <name>", "written to each pair's meta.policy (default: the model or checkpoint)")
    .addHelpText(
      "after",
      `
Example:
  sr2se ipr generate --data runs/demo/data/train.jsonl --endpoint http://127.0.0.1:8000/v1 \\
    --model Qwen2.5-VL-7B-Instruct --out runs/demo/ipr/pairs.jsonl --rounds 3 --samples 4 --shard 0/2
  sr2se ipr generate --data runs/demo/data/train.jsonl --ckpt runs/demo/sft --out runs/demo/ipr/pairs.jsonl
  sr2se ipr generate --data runs/demo/data/train.jsonl --ckpt runs/demo/sft --out runs/demo/ipr/pairs.jsonl \\
    --samples 4 --temperature 1 --perception --audit-self-reward --balance families,yesno
`,
    )
    .action(async (flags: GenerateFlags) => {
      if (flags.ckpt && flags.endpoint) throw new Error("give either --ckpt DIR or --endpoint URL, not both");
      let policy: VisionLanguagePolicy | undefined;
      let policyName = flags.policyName;
      let model: string | undefined;
      if (flags.ckpt) {
        // on the queue the workers load it; here it would only take memory
        if (flags.queue === undefined) policy = await loadCheckpointPolicy(flags.ckpt);
        policyName ??= `ckpt:${path.basename(path.resolve(flags.ckpt))}`;
      } else {
        const baseURL = flags.endpoint ?? process.env.OPENAI_BASE_URL;
        model = flags.model ?? process.env.OPENAI_MODEL;
        if (!baseURL)
          throw new Error(
            "no policy: give --ckpt DIR, or --endpoint URL --model NAME (or env OPENAI_BASE_URL)",
          );
        if (!model) throw new Error(`--endpoint ${baseURL}: give --model NAME (or env OPENAI_MODEL)`);
        policy = new OpenAICompatiblePolicy({
          baseURL,
          model,
          apiKey: flags.apiKey,
          logprobs: flags.logprobs,
          timeoutMs: flags.timeoutMs,
          concurrency: flags.maxInFlight * flags.batchSize,
        });
        policyName ??= model;
      }
      // the engine's options that are plain data (a queued run sends them to its workers)
      const config: IprEngineConfig = {
        policyName,
        rounds: flags.rounds,
        samplesPerRound: flags.samples,
        temperature: flags.temperature,
        maxTokens: flags.maxTokens,
        seed: flags.seed,
        formatCheck: flags.format,
        selfReward: flags.selfReward,
        verify: flags.verify,
        perception: flags.perception ?? false,
        auditSelfReward: flags.auditSelfReward ?? false,
        negatives: flags.negatives,
        balance: flags.balance,
        keepSft: flags.keepSft ?? false,
        batchSize: flags.batchSize,
        maxInFlight: flags.maxInFlight,
        templates: {
          // Our VLM learned the bare question and the correction dialogues' refinement turn in SFT.
          prompt: flags.promptTemplate ?? (flags.ckpt ? "{question}" : undefined),
          refinement:
            flags.refinementTemplate ?? (flags.ckpt ? DEFAULT_WORLD_CONFIG.refinementPrompt : undefined),
        },
      };
      let client: ChunkClient | undefined;
      let engine: Refiner;
      if (flags.queue !== undefined) {
        // the workers' model: the checkpoint (every worker reads it at this path; the job carries its
        // hash) or the endpoint (on every worker's --endpoint list)
        const workersModel = flags.ckpt
          ? {
              ckpt: path.resolve(await checkpointDirOf(flags.ckpt)),
              ckptHash: await checkpointHash(await checkpointDirOf(flags.ckpt)),
            }
          : { endpoint: (flags.endpoint ?? process.env.OPENAI_BASE_URL) as string, model: model as string };
        client = await openChunkClient(queueUrl(flags.queue), {
          log: (line) => process.stderr.write(`ipr: ${line}\n`),
        });
        engine = queuedRefiner({
          client,
          model: workersModel,
          logprobs: flags.logprobs ?? false,
          timeoutMs: flags.timeoutMs,
          engine: config,
          concurrency: flags.concurrency,
          chunkSize: flags.chunkSize,
        });
      } else engine = iprEngine(policy as VisionLanguagePolicy, config, flags.concurrency);
      const progress = createProgress({ label: "ipr", unit: "samples" });
      let result: Awaited<ReturnType<RefinementEngine["run"]>>;
      try {
        result = await runRefinement(engine, {
          samples: readSamples(flags.data),
          out: flags.out,
          shard: flags.shard,
          progress,
          maxErrors: flags.maxErrors,
        });
      } finally {
        progress.stop();
        await client?.close();
      }
      const { stats, errors, files } = result;
      process.stdout.write(
        `${JSON.stringify({
          pairs: stats.pairs,
          samples: stats.samples,
          resumed: stats.resumed,
          outcomes: stats.outcomes,
          pairs_per_sample: stats.pairs_per_sample,
          ...(stats.pairs_pass ? { pairs_written: stats.pairs_pass.after } : {}),
          files,
        })}\n`,
      );
      if (errors.length > 0) {
        for (const e of errors.slice(0, 5)) process.stderr.write(`sr2se: ${e.where}: ${e.message}\n`);
        throw new Error(
          `${errors.length} samples failed in the policy and were not recorded; rerun the same command to retry them`,
        );
      }
    });
}
