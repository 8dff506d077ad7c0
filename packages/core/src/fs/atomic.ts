import { randomBytes } from "node:crypto";
import { mkdir, open, readdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";

/** Writes a file atomically: a temporary file in the same folder, fsync, then rename over the target. */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const dir = path.dirname(file);
  await mkdir(dir, { recursive: true });
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
 * Builds a folder atomically: `fill` writes into a temporary folder, which then replaces `dir`. A crash
 * at any point leaves either the old folder or the new one whole (a leftover old folder is restored
 * on the next call).
 */
export async function writeDirAtomic(dir: string, fill: (tmpDir: string) => Promise<void>): Promise<void> {
  const parent = path.dirname(path.resolve(dir));
  const base = path.basename(dir);
  await mkdir(parent, { recursive: true });
  await recoverDir(dir);
  const suffix = `${process.pid}-${randomBytes(4).toString("hex")}`;
  const tmp = path.join(parent, `.${base}.tmp-${suffix}`);
  await mkdir(tmp);
  try {
    await fill(tmp);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
  const old = path.join(parent, `.${base}.old-${suffix}`);
  const exists = await stat(dir).then(
    () => true,
    () => false,
  );
  if (exists) await rename(dir, old);
  await rename(tmp, dir);
  await syncDir(parent);
  if (exists) await rm(old, { recursive: true, force: true });
}

/** Restores `dir` from a `.dir.old-*` left by a crash between the two renames of writeDirAtomic. */
async function recoverDir(dir: string): Promise<void> {
  const parent = path.dirname(path.resolve(dir));
  const base = path.basename(dir);
  const exists = await stat(dir).then(
    () => true,
    () => false,
  );
  const leftovers = (await readdir(parent)).filter((n) => n.startsWith(`.${base}.old-`));
  for (const name of leftovers) {
    if (!exists) await rename(path.join(parent, name), dir);
    else await rm(path.join(parent, name), { recursive: true, force: true });
  }
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
