import { linkSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { hostname } from "node:os";
import path from "node:path";

/** What a lock file holds: who writes the output. */
export interface LockOwner {
  pid: number;
  host: string;
  command: string;
  since: string;
}

/** An output that another live process is writing. */
export class OutputLockedError extends Error {
  override name = "OutputLockedError";
  constructor(
    readonly output: string,
    readonly lockFile: string,
    readonly owner: LockOwner,
  ) {
    super(
      `${output} is being written by pid ${owner.pid} (\`${owner.command}\`, since ${owner.since}); wait for it to finish or stop it (lock ${lockFile})`,
    );
  }
}

/** A held lock on an output; `release` removes the lock file (also done when the process exits). */
export interface OutputLock {
  readonly file: string;
  release(): void;
}

/** The lock file of an output (a file or a folder): `OUT.lock` beside it. */
export function lockFileOf(output: string): string {
  return `${path.resolve(output).replace(/[\\/]+$/, "")}.lock`;
}

const held = new Map<string, OutputLock>();

/**
 * Takes the lock on `output` so that one process at a time writes it: creates `OUT.lock` (holding
 * this pid) with an exclusive create. A lock whose pid is dead on this host is stale (a kill left it)
 * and is taken over; a live one throws `OutputLockedError` naming the pid and its command. The lock
 * is removed by `release` or when this process exits.
 */
export async function acquireOutputLock(
  output: string,
  command = process.argv.slice(2).join(" "),
): Promise<OutputLock> {
  const file = lockFileOf(output);
  const mine = held.get(file);
  if (mine) return mine;
  await mkdir(path.dirname(file), { recursive: true });
  const owner: LockOwner = { pid: process.pid, host: hostname(), command, since: new Date().toISOString() };
  // Written whole under a unique name, then linked into place: the link fails if a lock exists, so no
  // reader ever sees a half-written lock and two takers cannot both win.
  const draft = `${file}.${process.pid}-${Math.random().toString(16).slice(2)}`;
  writeFileSync(draft, `${JSON.stringify(owner)}\n`);
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(draft, file);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      }
      const current = readOwner(file);
      if (current && (current.host !== owner.host || isAlive(current.pid)))
        throw new OutputLockedError(output, file, current);
      if (attempt >= 8)
        throw new Error(`${file}: cannot take over the stale lock (another process keeps taking it)`);
      takeOverStale(file, current);
    }
  } finally {
    rmSync(draft, { force: true });
  }
  const lock: OutputLock = {
    file,
    release() {
      if (held.get(file) !== lock) return;
      held.delete(file);
      try {
        if (readOwner(file)?.pid === process.pid) unlinkSync(file);
      } catch {
        // already gone
      }
    },
  };
  held.set(file, lock);
  if (held.size === 1) process.once("exit", releaseAll);
  return lock;
}

function releaseAll(): void {
  for (const lock of [...held.values()]) lock.release();
}

/** The owner a lock file names, or undefined when it is gone or unreadable (a torn write counts as stale). */
function readOwner(file: string): LockOwner | undefined {
  try {
    const owner = JSON.parse(readFileSync(file, "utf8")) as LockOwner;
    return Number.isInteger(owner.pid) ? owner : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a process with this pid runs on this host. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Removes a stale lock. It is first renamed to a name of ours, so that if another process took it over
 * in between (its lock now sits there), the one removed is checked to be the stale one and otherwise
 * put back.
 */
function takeOverStale(file: string, stale: LockOwner | undefined): void {
  const aside = `${file}.stale-${process.pid}`;
  try {
    renameSync(file, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
    throw err;
  }
  const moved = readOwner(aside);
  if (moved && stale && moved.pid !== stale.pid && isAlive(moved.pid)) {
    try {
      linkSync(aside, file);
    } catch {
      // someone else holds it now; the next attempt reports them
    }
  }
  rmSync(aside, { force: true });
}
