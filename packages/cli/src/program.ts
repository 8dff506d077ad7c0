import { Command } from "commander";
import { commandGroups } from "./commands/index.js";

/** Builds the `sr2se` command tree. */
export function buildProgram(): Command {
  const program = new Command("sr2se")
    .description("self-rewarding to self-evolving vision-language models")
    .option("--verbose", "print stack traces on errors")
    .showHelpAfterError();
  for (const register of commandGroups) register(program);
  return program;
}
