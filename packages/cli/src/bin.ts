#!/usr/bin/env node
import { buildProgram } from "./program.js";

// Started as a stage of `sr2se pipeline` or `experiment` (an IPC channel to the parent): when the parent
// dies, even by SIGKILL, the channel closes and this stage stops instead of writing on alone; the
// rerun parent resumes it.
if (process.channel) {
  process.channel.unref();
  process.on("disconnect", () => {
    process.stderr.write("sr2se: the parent process is gone; stopping\n");
    process.exit(129);
  });
}

const program = buildProgram();
program.parseAsync(process.argv).catch((err: unknown) => {
  const verbose = process.argv.includes("--verbose");
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`sr2se: ${message}\n`);
  if (verbose && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  process.exitCode = 1;
});
