import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { acquireOutputLock, lockFileOf, OutputLockedError } from "../src/index.js";

const dir = mkdtempSync(path.join(tmpdir(), "sr2se-lock-"));
const distIndex = path.resolve(import.meta.dirname, "../dist/index.js");

/** A pid that is certainly dead: a child that has exited and been reaped. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], {
    encoding: "utf8",
  });
  return Number(r.stdout);
}

describe("acquireOutputLock", () => {
  it("refuses a second writer of the same output while the first lives, naming its pid", async () => {
    const out = path.join(dir, "busy");
    // Another live process holds the lock (the built package).
    const holder = spawn(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `import(${JSON.stringify(distIndex)}).then(async (m) => { await m.acquireOutputLock(${JSON.stringify(out)}, "holder"); process.stdout.write("held\\n"); setTimeout(() => {}, 60000); })`,
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    await new Promise<void>((resolve) => holder.stdout.once("data", () => resolve()));
    try {
      const err = await acquireOutputLock(out).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OutputLockedError);
      expect((err as Error).message).toContain(`pid ${holder.pid}`);
      expect((err as Error).message).toContain("`holder`");
    } finally {
      holder.kill("SIGKILL");
    }
    await new Promise((r) => holder.once("close", r));
    // Killed, its lock is stale: the next writer takes it over.
    const lock = await acquireOutputLock(out);
    expect(JSON.parse(readFileSync(lock.file, "utf8")).pid).toBe(process.pid);
    lock.release();
    expect(existsSync(lockFileOf(out))).toBe(false);
  });

  it("takes over a stale lock left by a dead pid", async () => {
    const out = path.join(dir, "stale.jsonl");
    writeFileSync(
      lockFileOf(out),
      JSON.stringify({ pid: deadPid(), host: (await import("node:os")).hostname(), command: "x", since: "" }),
    );
    const lock = await acquireOutputLock(out);
    expect(JSON.parse(readFileSync(lock.file, "utf8")).pid).toBe(process.pid);
    lock.release();
  });

  it("takes over an unreadable lock file", async () => {
    const out = path.join(dir, "garbled");
    writeFileSync(lockFileOf(out), '{"pid":');
    const lock = await acquireOutputLock(out);
    expect(existsSync(lock.file)).toBe(true);
    lock.release();
    expect(existsSync(lock.file)).toBe(false);
  });

  it("removes its lock when the process exits", () => {
    const out = path.join(dir, "exit");
    const r = spawnSync(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `import(${JSON.stringify(distIndex)}).then((m) => m.acquireOutputLock(${JSON.stringify(out)}))`,
      ],
      { encoding: "utf8" },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(existsSync(lockFileOf(out))).toBe(false);
  });
});
