import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { exists, recoverDirAtomic, writeDirAtomic } from "../src/index.js";

/** A folder holding one file `v` with the given text. */
function folder(p: string, v: string): void {
  mkdirSync(p, { recursive: true });
  writeFileSync(path.join(p, "v"), v);
}

const version = (p: string) => readFileSync(path.join(p, "v"), "utf8");

// The names below are the ones writeDirAtomic gives its temporary and old folders: `.NAME.tmp-PID-HEX`
// and `.NAME.old-PID-HEX` (one suffix per write). Each test lays out what a kill at one point leaves.
describe("recoverDirAtomic after a kill inside writeDirAtomic", () => {
  it("killed while filling: keeps the old folder and removes the partial new one", async () => {
    const parent = mkdtempSync(path.join(tmpdir(), "sr2se-atomic-"));
    folder(path.join(parent, "ckpt"), "1");
    folder(path.join(parent, ".ckpt.tmp-4242-0a1b2c3d"), "2-partial");
    expect(await recoverDirAtomic(path.join(parent, "ckpt"))).toBe(true);
    expect(version(path.join(parent, "ckpt"))).toBe("1");
    expect(readdirSync(parent)).toEqual(["ckpt"]);
  });

  it("killed between the two renames: moves the whole new folder into place", async () => {
    const parent = mkdtempSync(path.join(tmpdir(), "sr2se-atomic-"));
    folder(path.join(parent, ".ckpt.old-4242-0a1b2c3d"), "1");
    folder(path.join(parent, ".ckpt.tmp-4242-0a1b2c3d"), "2");
    expect(await recoverDirAtomic(path.join(parent, "ckpt"))).toBe(true);
    expect(version(path.join(parent, "ckpt"))).toBe("2");
    expect(readdirSync(parent)).toEqual(["ckpt"]);
  });

  it("with only the old folder left and no folder in place, restores the old one", async () => {
    const parent = mkdtempSync(path.join(tmpdir(), "sr2se-atomic-"));
    folder(path.join(parent, ".ckpt.old-4242-0a1b2c3d"), "1");
    folder(path.join(parent, ".ckpt.tmp-777-ffffffff"), "other write, partial");
    expect(await recoverDirAtomic(path.join(parent, "ckpt"))).toBe(true);
    expect(version(path.join(parent, "ckpt"))).toBe("1");
    expect(readdirSync(parent)).toEqual(["ckpt"]);
  });

  it("killed after the swap, before the old folder was removed: removes it", async () => {
    const parent = mkdtempSync(path.join(tmpdir(), "sr2se-atomic-"));
    folder(path.join(parent, "ckpt"), "2");
    folder(path.join(parent, ".ckpt.old-4242-0a1b2c3d"), "1");
    expect(await recoverDirAtomic(path.join(parent, "ckpt"))).toBe(true);
    expect(version(path.join(parent, "ckpt"))).toBe("2");
    expect(readdirSync(parent)).toEqual(["ckpt"]);
  });

  it("killed during the first write ever: nothing to restore, the partial folder goes", async () => {
    const parent = mkdtempSync(path.join(tmpdir(), "sr2se-atomic-"));
    folder(path.join(parent, ".ckpt.tmp-4242-0a1b2c3d"), "1-partial");
    expect(await recoverDirAtomic(path.join(parent, "ckpt"))).toBe(false);
    expect(readdirSync(parent)).toEqual([]);
  });

  it("leaves folders of other names alone, and says false for a parent that does not exist", async () => {
    const parent = mkdtempSync(path.join(tmpdir(), "sr2se-atomic-"));
    folder(path.join(parent, ".ckpt2.old-1-aa"), "x");
    folder(path.join(parent, ".ckpt.old-notapid"), "y");
    expect(await recoverDirAtomic(path.join(parent, "ckpt"))).toBe(false);
    expect(readdirSync(parent).sort()).toEqual([".ckpt.old-notapid", ".ckpt2.old-1-aa"]);
    expect(await recoverDirAtomic(path.join(parent, "missing", "ckpt"))).toBe(false);
  });

  it("does not remove the temporary folder of a write this process is filling", async () => {
    const parent = mkdtempSync(path.join(tmpdir(), "sr2se-atomic-"));
    const dir = path.join(parent, "ckpt");
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let filling!: () => void;
    const started = new Promise<void>((r) => {
      filling = r;
    });
    const write = writeDirAtomic(dir, async (tmp) => {
      await writeFile(path.join(tmp, "v"), "1");
      filling();
      await gate;
    });
    await started;
    await recoverDirAtomic(dir);
    expect(readdirSync(parent).filter((n) => n.startsWith(".ckpt.tmp-"))).toHaveLength(1);
    release();
    await write;
    expect(version(dir)).toBe("1");
    expect(readdirSync(parent)).toEqual(["ckpt"]);
  });

  it("writeDirAtomic repairs a half-done swap before it writes", async () => {
    const parent = mkdtempSync(path.join(tmpdir(), "sr2se-atomic-"));
    const dir = path.join(parent, "ckpt");
    folder(path.join(parent, ".ckpt.old-4242-0a1b2c3d"), "1");
    folder(path.join(parent, ".ckpt.tmp-4242-0a1b2c3d"), "2");
    await writeDirAtomic(dir, async (tmp) => {
      expect(version(dir)).toBe("2");
      await writeFile(path.join(tmp, "v"), "3");
    });
    expect(version(dir)).toBe("3");
    expect(readdirSync(parent)).toEqual(["ckpt"]);
  });
});

describe("exists", () => {
  it("is true for a file and a folder, false for a missing path", async () => {
    const parent = mkdtempSync(path.join(tmpdir(), "sr2se-exists-"));
    writeFileSync(path.join(parent, "f"), "");
    expect(await exists(parent)).toBe(true);
    expect(await exists(path.join(parent, "f"))).toBe(true);
    expect(await exists(path.join(parent, "nope"))).toBe(false);
    expect(existsSync(path.join(parent, "nope"))).toBe(false);
  });
});

describe("writeDirAtomic under SIGKILL", () => {
  it("a process killed at random points always leaves a whole folder after recovery", async () => {
    const distIndex = path.resolve(import.meta.dirname, "../dist/index.js");
    expect(existsSync(distIndex), "dist/index.js is missing: run `npm run build -w @sr2se/core` first").toBe(
      true,
    );
    const parent = mkdtempSync(path.join(tmpdir(), "sr2se-atomic-kill-"));
    const dir = path.join(parent, "ckpt");
    // Each write holds two files that must agree; a torn folder would show different versions.
    const script = `
      const { writeDirAtomic, recoverDirAtomic } = await import(${JSON.stringify(distIndex)});
      const { readFile, writeFile } = await import("node:fs/promises");
      const dir = ${JSON.stringify(dir)};
      let v = (await recoverDirAtomic(dir)) ? Number(await readFile(dir + "/a", "utf8")) : 0;
      for (;;) {
        v++;
        await writeDirAtomic(dir, async (tmp) => {
          await writeFile(tmp + "/a", String(v));
          await writeFile(tmp + "/b", String(v).repeat(2000));
        });
        process.stdout.write(v + "\\n");
      }
    `;
    const runAndKill = (delayMs: number) =>
      new Promise<number>((resolve) => {
        const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
          stdio: ["ignore", "pipe", "inherit"],
        });
        let out = "";
        let armed = false;
        child.stdout.on("data", (d) => {
          out += d;
          if (!armed) {
            armed = true;
            setTimeout(() => child.kill("SIGKILL"), delayMs);
          }
        });
        child.on("exit", () => {
          const done = out.trim().split("\n").map(Number);
          resolve(done[done.length - 1] ?? 0);
        });
      });
    for (let i = 0; i < 6; i++) {
      const lastReported = await runAndKill(5 + i * 7);
      expect(await recoverDirAtomic(dir)).toBe(true);
      const a = Number(readFileSync(path.join(dir, "a"), "utf8"));
      expect(readFileSync(path.join(dir, "b"), "utf8")).toBe(String(a).repeat(2000));
      expect(a).toBeGreaterThanOrEqual(lastReported);
      expect(readdirSync(parent)).toEqual(["ckpt"]);
    }
  }, 60_000);
});
