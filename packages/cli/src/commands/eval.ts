import { existsSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import path from "node:path";
import { writeFileAtomic } from "@sr2se/core";
import { SHAPES_WORLD_VOCABULARY } from "@sr2se/data";
import {
  type ChairVocabulary,
  compareResults,
  createMathVistaExtractor,
  createMmVetJudge,
  type EvalMode,
  type MathVistaProblem,
  type MmVetJudge,
  readChairSamples,
  readData,
  readMmmuQuestions,
  readPopeAnswers,
  readPopeQuestions,
  readPredictions,
  ShapesWorldJudge,
  scoreChair,
  scoreMathVista,
  scoreMmmu,
  scoreMmVet,
  scorePope,
} from "@sr2se/eval";
import { type Command, InvalidArgumentError } from "commander";
import { judgeModelOf, judgeOverQueue } from "../queue/judge-job.js";
import { integer } from "./args.js";
import { readResultsFile } from "./stages.js";
import { queueUrl } from "./worker.js";

const BENCHES = ["pope", "mmmu", "mathvista", "mmvet", "chair"] as const;
type Bench = (typeof BENCHES)[number];

function oneOf<T extends string>(names: readonly T[]) {
  return (value: string): T => {
    if (!(names as readonly string[]).includes(value)) {
      throw new InvalidArgumentError(`expected one of ${names.join(", ")}, got "${value}"`);
    }
    return value as T;
  };
}

interface ScoreFlags {
  bench: Bench;
  data: string[];
  pred: string;
  out?: string;
  mode: EvalMode;
  judge?: string;
  judgeModel?: string;
  apiKey?: string;
  runs: number;
  quickExtract?: boolean;
  vocab?: string;
  pipeline?: "parse_and_eval" | "eval_only";
  boxed: boolean;
  queue?: string | true;
  chunkSize: number;
}

/** The result JSON's default path: next to the predictions, `<pred>.<bench>.json`. */
function defaultOut(pred: string, bench: string): string {
  const ext = path.extname(pred);
  return path.join(path.dirname(pred), `${path.basename(pred, ext)}.${bench}.json`);
}

/** Where judge replies and LLM extractions are cached: `cache/` next to the result JSON. */
function cacheDirOf(flags: ScoreFlags): string {
  return path.join(path.dirname(flags.out ?? defaultOut(flags.pred, flags.bench)), "cache");
}

function single(flags: ScoreFlags): string {
  if (flags.data.length !== 1)
    throw new Error(`--bench ${flags.bench} takes one --data file (got ${flags.data.length})`);
  return flags.data[0] as string;
}

async function score(flags: ScoreFlags): Promise<{ table: string }> {
  const mode = flags.mode;
  const boxed = flags.boxed;
  if (flags.bench === "pope") {
    // POPE's answer files come in three shapes (sr2se, LLaVA, RUCAIBox's positional): readPopeAnswers reads all.
    const questions = await readPopeQuestions(flags.data);
    return scorePope(questions, await readPopeAnswers(flags.pred, questions), { mode, boxed });
  }
  const predictions = await readPredictions(flags.pred);
  switch (flags.bench) {
    case "mmmu": {
      const questions = await readMmmuQuestions(single(flags));
      return scoreMmmu(questions, predictions, { mode, pipeline: flags.pipeline, boxed });
    }
    case "mathvista": {
      const { records } = await readData(single(flags), { idField: "pid" });
      // With --judge, responses the rules cannot read go to the official LLM extractor (cached next to --out).
      const extractor = flags.judge
        ? createMathVistaExtractor({
            baseURL: flags.judge,
            model: flags.judgeModel,
            apiKey: flags.apiKey,
            cacheFile: path.join(cacheDirOf(flags), "mathvista-extractions.jsonl"),
          })
        : undefined;
      return scoreMathVista(records as unknown as MathVistaProblem[], predictions, {
        mode,
        extractor,
        quickExtract: flags.quickExtract,
        boxed: flags.boxed,
      });
    }
    case "mmvet": {
      const file = single(flags);
      const { records } = await readData(file);
      let judge: MmVetJudge;
      if (flags.judge) {
        judge = await createMmVetJudge({
          baseURL: flags.judge,
          model: flags.judgeModel,
          apiKey: flags.apiKey,
          cacheDir: cacheDirOf(flags),
        });
      } else {
        process.stderr.write(
          "sr2se eval: no --judge given: grading with the deterministic shapes-world judge (NOT the official GPT-4 grader)\n",
        );
        // The data package writes scenes.jsonl (each image's objects) next to its benchmark files.
        const scenesFile = path.join(path.dirname(file), "scenes.jsonl");
        const scenes = existsSync(scenesFile) ? (await readData(scenesFile)).records : [];
        judge = new ShapesWorldJudge({ scenes });
      }
      return scoreMmVet(records, predictions, { judge, mode, runs: flags.runs, boxed: flags.boxed });
    }
    case "chair": {
      const samples = await readChairSamples(single(flags));
      let vocabulary: ChairVocabulary = SHAPES_WORLD_VOCABULARY;
      if (flags.vocab) {
        try {
          vocabulary = JSON.parse(await readFile(flags.vocab, "utf8")) as ChairVocabulary;
        } catch (err) {
          throw new Error(`--vocab ${flags.vocab}: ${(err as Error).message}`);
        }
      }
      return scoreChair(samples, predictions, { mode, vocabulary });
    }
  }
}

/**
 * `--queue`: the judgments the scoring needs and the cache lacks are asked by sr2se workers; the
 * scoring that follows finds every one in the cache, as a rerun of a local run does.
 */
async function judgeByQueue(flags: ScoreFlags): Promise<void> {
  if (flags.bench !== "mmvet" && flags.bench !== "mathvista")
    throw new Error(
      `--queue sends judge calls to workers: it takes --bench mmvet or mathvista with --judge (${flags.bench} needs no judge)`,
    );
  if (!flags.judge)
    throw new Error("--queue sends judge calls to workers: give the judge's endpoint with --judge URL");
  const bench = flags.bench;
  const { records } = await readData(single(flags), bench === "mathvista" ? { idField: "pid" } : {});
  const predictions = (await readPredictions(flags.pred)).map((p) => ({
    id: String(p.id),
    response: typeof p.response === "string" ? p.response : "",
  }));
  const done = await judgeOverQueue({
    url: queueUrl(flags.queue),
    bench,
    endpoint: flags.judge,
    model: judgeModelOf(bench, flags.judgeModel),
    mode: flags.mode,
    runs: flags.runs,
    boxed: flags.boxed,
    quickExtract: flags.quickExtract ?? false,
    records,
    predictions,
    cacheFile: path.join(
      cacheDirOf(flags),
      bench === "mmvet" ? "mmvet-judgments.jsonl" : "mathvista-extractions.jsonl",
    ),
    chunkSize: flags.chunkSize,
  });
  process.stderr.write(
    `sr2se eval: ${done.judged} samples judged by the workers, ${done.skipped} already in the cache\n`,
  );
}

/** Registers `sr2se eval score` and `sr2se eval compare`. */
export function register(program: Command): void {
  const evalCmd = program
    .command("eval")
    .description("score predictions on POPE, MMMU, MathVista, MM-Vet and CHAIR; compare two runs");

  evalCmd
    .command("score")
    .description(
      "score a predictions file against a benchmark's data: prints the table, writes the result JSON",
    )
    .requiredOption("--bench <name>", `benchmark: ${BENCHES.join(", ")}`, oneOf(BENCHES))
    .requiredOption(
      "--data <file...>",
      "the benchmark's data file (POPE: one file a split, or LLaVA's merged file)",
    )
    .requiredOption("--pred <file>", 'predictions JSONL: {"id": …, "response": …} a line')
    .option("--out <file>", "result JSON (default: <pred>.<bench>.json next to the predictions)")
    .option(
      "--mode <mode>",
      "official (the benchmark's own code, quirks included) or robust",
      oneOf(["official", "robust"] as const),
      "official",
    )
    .option(
      "--judge <url>",
      "OpenAI-compatible base URL: the MM-Vet grader, or MathVista's LLM answer extractor (env OPENAI_BASE_URL); without it, the shapes-world judge / rules only",
    )
    .option("--judge-model <name>", "grader / extractor model (env OPENAI_MODEL; default gpt-4-0613)")
    .option("--api-key <key>", "API key of the grader / extractor (env OPENAI_API_KEY)")
    .option("--runs <n>", "MM-Vet: grading runs (their standard deviation is reported)", integer(1), 1)
    .option("--quick-extract", "MathVista: the official --quick_extract rule")
    .option(
      "--pipeline <name>",
      "MMMU: parse_and_eval (default) or eval_only",
      oneOf(["parse_and_eval", "eval_only"] as const),
    )
    .option(
      "--vocab <file>",
      "CHAIR: vocabulary JSON {objects: {name: [synonyms]}, attributes: {…}, fillers: […]}",
    )
    .option("--no-boxed", "score the whole response even when it has a \\boxed{} answer")
    .option(
      "--queue [url]",
      "MM-Vet and MathVista with --judge: the judge calls go to `sr2se worker`s (started with --endpoint URL) over BullMQ on this redis:// URL (without a value: SR2SE_REDIS_URL); same result file",
    )
    .option("--chunk-size <n>", "samples a queue job (with --queue)", integer(1), 16)
    .addHelpText(
      "after",
      [
        "",
        "Examples:",
        "  $ sr2se eval score --bench pope --data coco_pope_random.json coco_pope_popular.json coco_pope_adversarial.json --pred preds.jsonl",
        "  $ sr2se eval score --bench mmmu --data mmmu_validation.jsonl --pred preds.jsonl --out runs/a/eval/final/mmmu.json",
        "  $ sr2se eval score --bench mmvet --data mm-vet.json --pred preds.jsonl --judge https://api.openai.com/v1",
        "  $ sr2se eval score --bench chair --data bench/scenes.jsonl --pred descriptions.jsonl   # ids: the scenes' image paths",
      ].join("\n"),
    )
    .action(async (flags: ScoreFlags) => {
      if (flags.queue !== undefined) await judgeByQueue(flags);
      const result = await score(flags);
      const out = flags.out ?? defaultOut(flags.pred, flags.bench);
      await mkdir(path.dirname(path.resolve(out)), { recursive: true });
      await writeFileAtomic(out, `${JSON.stringify(result, null, 2)}\n`);
      process.stdout.write(`${result.table}\n`);
      process.stderr.write(`sr2se eval: wrote ${out}\n`);
    });

  evalCmd
    .command("compare")
    .description("the Benchmark | Baseline | Ours | Improvement table, with paired-bootstrap 95% intervals")
    .argument("<base>", "baseline result JSON (one result of `eval score`, a list, or an object of them)")
    .argument("<ours>", "our result JSON")
    .option("--iterations <n>", "bootstrap resamples", integer(1), 2000)
    .option("--seed <n>", "bootstrap seed", "0")
    .option("--out <file>", "also write the comparison as JSON")
    .addHelpText(
      "after",
      "\nExample:\n  $ sr2se eval compare runs/base/eval/final/mmmu.json runs/ours/eval/final/mmmu.json",
    )
    .action(async (base: string, ours: string, flags: { iterations: number; seed: string; out?: string }) => {
      const seed = /^-?\d+$/.test(flags.seed) ? Number(flags.seed) : flags.seed;
      const comparison = compareResults(await readResultsFile(base), await readResultsFile(ours), {
        iterations: flags.iterations,
        seed,
      });
      process.stdout.write(`${comparison.markdown}\n`);
      if (flags.out) {
        await mkdir(path.dirname(path.resolve(flags.out)), { recursive: true });
        await writeFileAtomic(flags.out, `${JSON.stringify(comparison, null, 2)}\n`);
      }
    });
}
