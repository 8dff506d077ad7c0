import { randomBytes } from "node:crypto";
import { mkdir, open, readdir, rename, rm } from "node:fs/promises";
import path from "node:path";
import { exists } from "./exists.js";

/**
 * Writes a file atomically: a temporary file in the same folder, fsync, then rename over the target.
 * Temporary files of this target that a killed writer left (their pid is gone) are removed first.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const dir = path.dirname(file);
  await mkdir(dir, { recursive: true });
  await removeDeadTemps(dir, path.basename(file));
  const tmp = path.join(dir, `.${path.basename(file)}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`);
  const fh = await open(tmp, "w");
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (err) {
    await fh.close();
    await rm(tmp, { force: true });
    throw err;
  }
  await fh.close();
  await rename(tmp, file);
  await syncDir(dir);
}

/**
 * Builds a folder atomically: `fill` writes into `.NAME.tmp-PID-HEX` beside `dir`; its files are
 * fsynced, then the old folder is renamed to `.NAME.old-PID-HEX`, the new one into place, and the old
 * one removed. A crash at any point leaves a whole folder: `recoverDirAtomic` (called here first, and
 * by readers before they look) finishes or undoes a swap that a crash interrupted.
 */
export async function writeDirAtomic(dir: string, fill: (tmpDir: string) => Promise<void>): Promise<void> {
  const parent = path.dirname(path.resolve(dir));
  const base = path.basename(dir);
  await mkdir(parent, { recursive: true });
  await recoverDirAtomic(dir);
  const suffix = `${process.pid}-${randomBytes(4).toString("hex")}`;
  const tmp = path.join(parent, `.${base}.tmp-${suffix}`);
  await mkdir(tmp);
  active.add(tmp);
  try {
    try {
      await fill(tmp);
      await syncTree(tmp);
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      throw err;
    }
    const old = path.join(parent, `.${base}.old-${suffix}`);
    const existed = await exists(dir);
    if (existed) await rename(dir, old);
    await rename(tmp, dir);
    await syncDir(parent);
    if (existed) await rm(old, { recursive: true, force: true });
  } finally {
    active.delete(tmp);
  }
}

/** Temporary folders this process is filling right now; recovery leaves them alone. */
const active = new Set<string>();

/**
 * Repairs what a crash inside `writeDirAtomic` left beside `dir`, and returns whether `dir` exists
 * afterwards. Killed between its two renames (no `dir`, an `.old-` and a whole `.tmp-` folder), the
 * new folder is moved into place; with only the `.old-` folder, that one is. Leftover `.old-` folders
 * beside a present `dir`, and `.tmp-` folders no write of this process is filling, are removed (one
 * writer a folder at a time: a crashed writer's leftovers look like those of a running one).
 */
export async function recoverDirAtomic(dir: string): Promise<boolean> {
  const parent = path.dirname(path.resolve(dir));
  const base = path.basename(dir);
  let names: string[];
  try {
    names = await readdir(parent);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw err;
  }
  const leftover = new RegExp(`^\\.${escapeRegExp(base)}\\.(tmp|old)-(\\d+-[0-9a-f]+)$`);
  const olds: string[] = [];
  const tmps = new Set<string>();
  for (const name of names) {
    const m = leftover.exec(name);
    if (!m) continue;
    if (active.has(path.join(parent, name))) continue;
    if (m[1] === "old") olds.push(name);
    else tmps.add(name);
  }
  let present = await exists(dir);
  for (const name of olds) {
    const full = path.join(parent, name);
    const tmp = `.${base}.tmp-${name.slice(`.${base}.old-`.length)}`;
    if (!present) {
      // The old folder is moved aside only after the new one is whole and synced: prefer the new one.
      if (tmps.has(tmp)) {
        await rename(path.join(parent, tmp), dir);
        tmps.delete(tmp);
        await rm(full, { recursive: true, force: true });
      } else await rename(full, dir);
      present = true;
      await syncDir(parent);
    } else await rm(full, { recursive: true, force: true });
  }
  for (const name of tmps) await rm(path.join(parent, name), { recursive: true, force: true });
  return present;
}

/** Removes `.BASE.tmp-PID-HEX` files in `dir` whose writer (PID) no longer runs on this host. */
async function removeDeadTemps(dir: string, base: string): Promise<void> {
  const temp = new RegExp(`^\\.${escapeRegExp(base)}\\.tmp-(\\d+)-[0-9a-f]+$`);
  for (const name of await readdir(dir)) {
    const m = temp.exec(name);
    if (m && !isRunning(Number(m[1]))) await rm(path.join(dir, name), { force: true });
  }
}

/** Whether a process with this pid runs on this host (one we may not signal still runs). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Fsyncs every file under `dir` and the folders themselves, so a rename publishes whole files. */
async function syncTree(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) await syncTree(p);
    else if (entry.isFile()) {
      const fh = await open(p, "r");
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
    }
  }
  await syncDir(dir);
}

async function syncDir(dir: string): Promise<void> {
  try {
    const fh = await open(dir, "r");
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    // Some platforms cannot fsync a directory; the rename itself is still atomic.
  }
}
