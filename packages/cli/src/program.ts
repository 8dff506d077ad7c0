import { acquireOutputLock } from "@sr2se/core";
import { Command } from "commander";
import { commandGroups } from "./commands/index.js";

/** Builds the `sr2se` command tree. */
export function buildProgram(): Command {
  const program = new Command("sr2se")
    .description("self-rewarding to self-evolving vision-language models")
    .option("--verbose", "print stack traces on errors")
    .showHelpAfterError()
    // One process at a time writes an output: every command's --out (a file or a folder) is locked.
    .hook("preAction", async (_program, action) => {
      const out = action.opts().out;
      if (typeof out === "string" && out !== "") await acquireOutputLock(out);
    });
  for (const register of commandGroups) register(program);
  return program;
}
