// What `sr2se pipeline` and `sr2se experiment` share: running `sr2se` stages as child processes, a state
// file of finished stages (a rerun skips them), the benchmark files and their scoring, and comparisons.
import { spawn } from "node:child_process";
import { createReadStream, existsSync } from "node:fs";
import { mkdir, readFile, rm } from "node:fs/promises";
import path from "node:path";
import { readRecords, writeFileAtomic } from "@sr2se/core";
import {
  type ComparableResult,
  type CompareOptions,
  type Comparison,
  compareResults,
  resultsOf,
} from "@sr2se/eval";

/**
 * Runs `sr2se …args` as a child process; its stdout goes to our stderr (progress and per-file tables are
 * not results), so a run's stdout holds only its own summary. Rejects with the command and its failure.
 */
export function sr2se(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    // The IPC channel is how the child notices that we died (bin.ts): it stops rather than write alone.
    const child = spawn(process.execPath, [process.argv[1] as string, ...args], {
      stdio: ["ignore", 2, 2, "ipc"],
    });
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    process.once("SIGTERM", forward);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      process.off("SIGTERM", forward);
      if (code === 0) resolve();
      else
        reject(
          new Error(
            `\`sr2se ${args.join(" ")}\` ${signal ? `was killed (${signal})` : `exited with ${code}`}`,
          ),
        );
    });
  });
}

/** Runs `sr2se …args` and returns what it printed (stdout and stderr together), whatever its exit code. */
export function sr2seOutput(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [process.argv[1] as string, ...args], {
      stdio: ["ignore", "pipe", "pipe", "ipc"],
    });
    let output = "";
    child.stdout?.on("data", (d) => (output += d));
    child.stderr?.on("data", (d) => (output += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output }));
  });
}

/** One step of a run: a name unique in the run, what it does, and the work. */
export interface Stage {
  name: string;
  what: string;
  /** Output folder a restarted stage removes first (deterministic data stages). */
  restartClean?: string;
  run: () => Promise<void>;
}

interface RunState<O> {
  version: 1;
  options: O;
  done: Record<string, { seconds: number; finished: string }>;
}

/**
 * A run's record of finished stages in `stateFile`: created with the options, refused when a rerun's options
 * differ (naming the option), so a rerun after a crash or a kill skips what finished and redoes the rest.
 */
export class StageLedger<O extends object> {
  private state: RunState<O>;

  private constructor(
    readonly stateFile: string,
    readonly label: string,
    state: RunState<O>,
  ) {
    this.state = state;
  }

  /** Opens (or creates) the ledger; throws when the file was started with other options. */
  static async open<O extends object>(stateFile: string, label: string, options: O): Promise<StageLedger<O>> {
    await mkdir(path.dirname(stateFile), { recursive: true });
    let state: RunState<O> = { version: 1, options, done: {} };
    if (existsSync(stateFile)) {
      let previous: RunState<O>;
      try {
        previous = JSON.parse(await readFile(stateFile, "utf8"));
      } catch (err) {
        throw new Error(`${stateFile}: ${(err as Error).message} (delete it to start over)`);
      }
      const keys = new Set([...Object.keys(previous.options ?? {}), ...Object.keys(options)]) as Set<keyof O>;
      for (const key of keys) {
        if (JSON.stringify(previous.options?.[key]) !== JSON.stringify(options[key]))
          throw new Error(
            `${stateFile}: this run was started with ${String(key)} = ${JSON.stringify(previous.options?.[key])}, now ${JSON.stringify(options[key])}; rerun with the same options or use another --out`,
          );
      }
      state = { ...previous, done: previous.done ?? {} };
    }
    const ledger = new StageLedger(stateFile, label, state);
    await ledger.save();
    return ledger;
  }

  private save(): Promise<void> {
    return writeFileAtomic(this.stateFile, `${JSON.stringify(this.state, null, 2)}\n`);
  }

  /** Whether the stage finished in this or an earlier run. */
  isDone(name: string): boolean {
    return this.state.done[name] !== undefined;
  }

  /** Seconds a finished stage took, or undefined. */
  seconds(name: string): number | undefined {
    return this.state.done[name]?.seconds;
  }

  /**
   * Moves the finished stages whose names start with `prefix` into `to` (a run whose stages are now
   * recorded in another ledger keeps what it finished); returns how many moved.
   */
  async moveTo(to: StageLedger<O>, prefix: string): Promise<number> {
    const names = Object.keys(this.state.done).filter((n) => n.startsWith(prefix));
    if (names.length === 0) return 0;
    for (const n of names) {
      to.state.done[n] ??= this.state.done[n] as { seconds: number; finished: string };
      delete this.state.done[n];
    }
    // the copy first: a crash between the two writes leaves the stages recorded twice, never lost
    await to.save();
    await this.save();
    return names.length;
  }

  /**
   * Runs the stages in order, skipping finished ones, with progress on stderr (`label [k/N] name: what`);
   * a failure names the stage and how to resume.
   */
  async runAll(
    stages: readonly Stage[],
    resumeHint: string,
    onStage?: (index: number, total: number) => void,
  ): Promise<void> {
    for (const [i, stage] of stages.entries()) {
      onStage?.(i, stages.length);
      const tag = `${this.label} [${i + 1}/${stages.length}] ${stage.name}`;
      const done = this.state.done[stage.name];
      if (done) {
        process.stderr.write(`${tag}: done earlier (${done.seconds.toFixed(0)} s), skipped\n`);
        continue;
      }
      process.stderr.write(`${tag}: ${stage.what}\n`);
      if (stage.restartClean) await rm(stage.restartClean, { recursive: true, force: true });
      const t0 = Date.now();
      try {
        await stage.run();
      } catch (err) {
        throw new Error(
          `${this.label} stage "${stage.name}" failed: ${(err as Error).message}\nFix the cause and rerun \`${resumeHint}\` with the same options: finished stages are skipped.`,
        );
      }
      this.state.done[stage.name] = { seconds: (Date.now() - t0) / 1000, finished: new Date().toISOString() };
      await this.save();
    }
  }
}

/** POPE's splits, each a benchmark file of the bench stage. */
export const POPE_SPLITS = ["random", "popular", "adversarial"] as const;

/** Sizes of a bench folder's sets. */
export interface BenchSizes {
  pope: number;
  mmmu: number;
  mathvista: number;
  mmvet: number;
  /** Held-out images described for CHAIR (taken from POPE's images). */
  chair: number;
}

/** A benchmark file of a bench folder with its scorer and scoring flags. */
export interface BenchFile {
  file: string;
  bench: string;
  extra: string[];
}

/** The benchmark files a bench folder of these sizes holds, in the report's order. */
export function benchFiles(s: BenchSizes): BenchFile[] {
  return [
    ...POPE_SPLITS.map((split) => ({ file: `pope_${split}`, bench: "pope", extra: [] as string[] })),
    ...(s.mmmu > 0 ? [{ file: "mmmu", bench: "mmmu", extra: [] }] : []),
    ...(s.mathvista > 0 ? [{ file: "mathvista", bench: "mathvista", extra: ["--quick-extract"] }] : []),
    ...(s.mmvet > 0 ? [{ file: "mmvet", bench: "mmvet", extra: [] }] : []),
    ...(s.chair > 0 && s.pope > 0 ? [{ file: "chair", bench: "chair", extra: [] }] : []),
  ];
}

/** The question CHAIR's held-out images are described with: the shapes world's describe family. */
const DESCRIBE = "Describe the image.";

/**
 * Builds a bench folder (`sr2se data bench`) and its CHAIR set: `chair.jsonl`, describe-the-image samples
 * of the first `chair` POPE images, each with its scene's objects (the CHAIR ground truth) and id = image.
 */
export async function buildBench(dir: string, seed: number, s: BenchSizes, world: string[]): Promise<void> {
  await sr2se([
    "data",
    "bench",
    "--out",
    dir,
    "--seed",
    String(seed),
    "--pope",
    String(s.pope),
    "--mmmu",
    String(s.mmmu),
    "--mathvista",
    String(s.mathvista),
    "--mmvet",
    String(s.mmvet),
    ...world,
  ]);
  if (s.chair > 0 && s.pope > 0) {
    const scenes = (await readRecords(path.join(dir, "scenes.jsonl"))).records as {
      image: string;
      objects: unknown[];
      description: string;
    }[];
    const chair = scenes
      .filter((x) => x.image.startsWith("images/pope-"))
      .slice(0, s.chair)
      .map((x) => ({
        id: x.image,
        image: x.image,
        question: DESCRIBE,
        answer: x.description,
        answer_type: "text",
        family: "describe",
        objects: x.objects,
      }));
    await writeFileAtomic(path.join(dir, "chair.jsonl"), chair.map((c) => `${JSON.stringify(c)}\n`).join(""));
  }
}

/**
 * Answers and scores every benchmark file of `benchDir` with a checkpoint: `predict` then `eval score`
 * (MM-Vet with the rule-based shapes-world judge), results in `evalDir/<file>.json` and all of them in
 * `evalDir/all.json`. Predictions already written are kept (a resumed stage answers only the rest).
 */
export async function evaluate(
  ckpt: string,
  benchDir: string,
  evalDir: string,
  files: readonly BenchFile[],
  predictExtra: string[] = [],
): Promise<void> {
  await mkdir(evalDir, { recursive: true });
  const results: unknown[] = [];
  for (const b of files) {
    const data = path.join(benchDir, `${b.file}.jsonl`);
    const pred = path.join(evalDir, `${b.file}.pred.jsonl`);
    const result = path.join(evalDir, `${b.file}.json`);
    await sr2se(["predict", "--ckpt", ckpt, "--data", data, "--out", pred, ...predictExtra]);
    await sr2se([
      "eval",
      "score",
      "--bench",
      b.bench,
      "--data",
      data,
      "--pred",
      pred,
      "--out",
      result,
      ...b.extra,
    ]);
    results.push(JSON.parse(await readFile(result, "utf8")));
  }
  await writeFileAtomic(path.join(evalDir, "all.json"), `${JSON.stringify(results, null, 2)}\n`);
}

/** The results an `evaluate` wrote (`evalDir/all.json`). */
export async function readResults(evalDir: string): Promise<ComparableResult[]> {
  return readResultsFile(path.join(evalDir, "all.json"));
}

/** The results of a JSON file of scores (`eval score`'s, `evaluate`'s all.json); errors name the file. */
export async function readResultsFile(file: string): Promise<ComparableResult[]> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, "utf8"));
  } catch (err) {
    throw new Error(`${file}: ${(err as Error).message}`);
  }
  return resultsOf(json, file);
}

/** The comparison options of every report: 2,000 resamples, seed 0, POPE's false-positive rate beside F1. */
export const COMPARE_OPTIONS: CompareOptions = { iterations: 2000, seed: 0, popeFalsePositiveRate: true };

/** Compares two evaluations and writes the comparison JSON. */
export async function compareEvals(base: string, ours: string, out: string): Promise<Comparison> {
  const c = compareResults(await readResults(base), await readResults(ours), COMPARE_OPTIONS);
  await mkdir(path.dirname(out), { recursive: true });
  await writeFileAtomic(out, `${JSON.stringify(c, null, 2)}\n`);
  return c;
}

/** Non-blank lines in a JSONL file (0 when it is missing), counted as it streams by. */
export async function countLines(file: string): Promise<number> {
  if (!existsSync(file)) return 0;
  let lines = 0;
  let blank = true;
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    for (const byte of chunk) {
      if (byte === 0x0a) {
        if (!blank) lines++;
        blank = true;
      } else if (byte !== 0x20 && byte !== 0x09 && byte !== 0x0d) blank = false;
    }
  }
  return blank ? lines : lines + 1;
}
