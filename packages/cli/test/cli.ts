// Runs the built `sr2se` binary for the end-to-end tests.
import { spawn, spawnSync } from "node:child_process";
import path from "node:path";

/** The CLI entry point. */
export const bin = path.resolve(import.meta.dirname, "../bin/sr2se.js");

/** What a finished run of the CLI printed, and its exit status. */
export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `sr2se args` to completion, blocking this process. */
export function sr2seSync(args: string[]): CliResult {
  return spawnSync(process.execPath, [bin, ...args], { encoding: "utf8" });
}

/** Runs `sr2se args` without blocking this process (so a loopback server here keeps answering). */
export function sr2seAsync(args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args]);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}
