// Kill anywhere, lose nothing: runs a resumable CLI job, SIGKILLs it at seeded random moments, lets the
// last run finish, and hands back what a test compares with an uninterrupted run. Also the checks every
// such test makes: no leftover temporary files or locks, each record id once, each log step once.
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { Rng } from "@sr2se/core";
import { bin, type CliResult } from "./cli.js";

/** Kills a test makes of each job: `SR2SE_CHAOS_KILLS` raises them locally (CI keeps the default). */
export function chaosKills(ciDefault: number): number {
  const n = Number(process.env.SR2SE_CHAOS_KILLS);
  return Number.isInteger(n) && n > 0 ? n : ciDefault;
}

/** Options of `killAnywhere`. */
export interface KillAnywhereOptions {
  /** The job's CLI arguments: the same command is run again after each kill, as a user would. */
  args: string[];
  /** How many runs to kill at most before the one that is let finish. */
  kills: number;
  /** Seed of the kill moments. */
  seed: number;
  /**
   * Kill moments are drawn uniformly from [minMs, maxMs] (default min 0), counted from the run's first
   * output on stderr (every job says what it starts on), so that kills land in its work, not its start-up.
   */
  minMs?: number;
  maxMs: number;
  /** Skip the last, uninterrupted run (a job too long to finish in a test); `final` is then undefined. */
  finish?: boolean;
  /** Count the moments from the run's start instead (for a job that prints nothing while it works). */
  from?: KillClock;
  /** Time a killed job's child processes have to exit (default 10 s); a survivor fails the run. */
  orphanGraceMs?: number;
  env?: NodeJS.ProcessEnv;
}

/** What `killAnywhere` did. */
export interface KillAnywhereResult {
  /** Runs that were SIGKILLed (a run that ended before its moment is not counted). */
  kills: number;
  /** The moments (ms after its first output) at which each killed run died. */
  moments: number[];
  /** The last, uninterrupted run. */
  final: CliResult;
  /** Processes the killed runs had started (child stages), each checked gone after its parent's kill. */
  orphansChecked: number;
  /** Everything the killed runs wrote on stderr, for a failing test's message. */
  killedStderr: string;
  /** What each run after the first wrote on stderr (the killed ones, then the final one). */
  resumedStderr: string[];
}

/** The step a run's progress (`label: k/N`) started from, or undefined when it printed none. */
export function startedAt(stderr: string, label: string): number | undefined {
  const m = new RegExp(`^${label}: (\\d+)/`, "m").exec(stderr);
  return m ? Number(m[1]) : undefined;
}

/** A finished run: `ms` from start to end, `workMs` from its first output on stderr to its end. */
export interface TimedResult extends CliResult {
  ms: number;
  workMs: number;
}

/** Runs `sr2se args` to completion without blocking this process, timing it. */
export function runToEnd(args: string[], env?: NodeJS.ProcessEnv): Promise<TimedResult> {
  const started = Date.now();
  let firstOutput: number | undefined;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => {
      firstOutput ??= Date.now();
      stderr += d;
    });
    child.on("close", (status) => {
      const end = Date.now();
      resolve({ status, stdout, stderr, ms: end - started, workMs: end - (firstOutput ?? started) });
    });
  });
}

/**
 * The latest kill moment for a job whose uninterrupted run worked `ref.workMs` after its first output:
 * 60% of it, so that kills land anywhere in the job's work (not in its start-up) and a killed run
 * often gets past a checkpoint before it dies.
 */
export function killWindow(ref: TimedResult, from: KillClock = "first-output"): number {
  return Math.round((from === "start" ? ref.ms : ref.workMs) * 0.6);
}

/** Where kill moments are counted from: the run's start, or its first output on stderr. */
export type KillClock = "start" | "first-output";

/**
 * Runs the job, SIGKILLs it at a seeded random moment, and starts it again, until `kills` runs were
 * killed or a run finished the job before its moment; then runs it once more to its end (after a
 * finished job, a rerun that must change nothing). After each kill, every process the job had started must be gone
 * within the grace time (a child stage still writing alone is a failure). A killed run that ended with
 * an error of its own (not the kill) fails at once.
 */
export async function killAnywhere(opts: KillAnywhereOptions): Promise<KillAnywhereResult> {
  const rng = new Rng(opts.seed);
  const min = opts.minMs ?? 0;
  const moments: number[] = [];
  let killedStderr = "";
  const runs: string[] = [];
  let orphansChecked = 0;
  let attempts = 0;
  while (moments.length < opts.kills) {
    attempts++;
    const at = Math.round(rng.float(min, opts.maxMs));
    const child = spawn(process.execPath, [bin, ...opts.args], { env: { ...process.env, ...opts.env } });
    let stderr = "";
    child.stderr?.on("data", (d) => (stderr += d));
    child.stdout?.resume();
    // "exit", not "close": an orphaned child stage holding the stderr pipe must not hold up the check
    const ended = new Promise<{ status: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on("exit", (status, signal) => resolve({ status, signal })),
    );
    let descendants: number[] = [];
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      timer = setTimeout(() => {
        descendants = descendantsOf(child.pid as number);
        child.kill("SIGKILL");
      }, at);
    };
    if (opts.from === "start") arm();
    else child.stderr?.once("data", arm);
    const end = await ended;
    clearTimeout(timer);
    runs.push(stderr);
    killedStderr += `--- run ${attempts} (kill at ${at} ms) ---\n${stderr}`;
    if (end.signal === "SIGKILL") {
      moments.push(at);
      await expectGone(descendants, opts.orphanGraceMs ?? 10_000, stderr);
      orphansChecked += descendants.length;
    } else if (end.status !== 0) {
      throw new Error(`killAnywhere: run ${attempts} failed on its own (status ${end.status}):\n${stderr}`);
    } else {
      break; // the job is done before its kill moment
    }
  }
  const final =
    opts.finish === false ? (undefined as unknown as CliResult) : await runToEnd(opts.args, opts.env);
  return {
    orphansChecked,
    kills: moments.length,
    moments,
    final,
    killedStderr,
    resumedStderr: [...runs.slice(1), ...(opts.finish === false ? [] : [final.stderr])],
  };
}

/** Waits until none of `pids` is alive, or throws naming the survivors. */
async function expectGone(pids: number[], graceMs: number, stderr: string): Promise<void> {
  const deadline = Date.now() + graceMs;
  let alive = pids.filter(isAlive);
  while (alive.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    alive = pids.filter(isAlive);
  }
  if (alive.length === 0) return;
  const names = alive.map((pid) => `${pid} (${commandOf(pid)})`).join(", ");
  for (const pid of alive) process.kill(pid, "SIGKILL");
  throw new Error(`killAnywhere: after the kill, ${names} still ran ${graceMs} ms later\n${stderr}`);
}

function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^\d+ \(.*\) Z /.test(stat); // a zombie has exited
  } catch {
    return false;
  }
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim();
  } catch {
    return "?";
  }
}

/** The pids of every live process under `root` (Linux /proc). */
export function descendantsOf(root: number): number[] {
  const parent = new Map<number, number>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      // the command name may hold spaces and parentheses: the fields follow the last ")"
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      parent.set(Number(name), Number(fields[1]));
    } catch {
      // exited while we read
    }
  }
  const out: number[] = [];
  const walk = (pid: number) => {
    for (const [child, ppid] of parent)
      if (ppid === pid) {
        out.push(child);
        walk(child);
      }
  };
  walk(root);
  return out;
}

/** Temporary files and folders, and locks, that a finished job must not leave anywhere under `dir`. */
export function leftovers(dir: string): string[] {
  const found: string[] = [];
  const walk = (d: string) => {
    if (!existsSync(d)) return;
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, entry.name);
      if (/\.(tmp|old)-\d+-[0-9a-f]+$|\.lock$|\.lock\.\d+-[0-9a-f]+$|\.partial$/.test(entry.name))
        found.push(p);
      if (entry.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return found;
}

/** The records of a JSONL file keyed by `key`; throws on a duplicated key or an unparsable line. */
export function recordsById<T extends Record<string, unknown>>(
  file: string,
  key: (r: T) => string = (r) => String(r.id),
): Map<string, T> {
  const out = new Map<string, T>();
  readFileSync(file, "utf8")
    .split("\n")
    .forEach((line, i) => {
      if (line.trim() === "") return;
      const rec = JSON.parse(line) as T;
      const id = key(rec);
      if (out.has(id)) throw new Error(`${file}:${i + 1}: id ${id} is written twice`);
      out.set(id, rec);
    });
  return out;
}

/** The `step` of each row of a metrics log, in file order. */
export function loggedSteps(file: string): number[] {
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => (JSON.parse(l) as { step: number }).step);
}
