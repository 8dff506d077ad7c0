#!/usr/bin/env node
import { buildProgram } from "./program.js";

const program = buildProgram();
program.parseAsync(process.argv).catch((err: unknown) => {
  const verbose = process.argv.includes("--verbose");
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`sr2se: ${message}\n`);
  if (verbose && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  process.exitCode = 1;
});
