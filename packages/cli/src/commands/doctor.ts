import type { Command } from "commander";

/** Registers `sr2se doctor`. */
export function register(program: Command): void {
  program
    .command("doctor")
    .description("check the install: Node, platform, sharp/libvips, WebGPU adapter")
    .action(async () => {
      process.stdout.write(`node ${process.version} ${process.platform}-${process.arch}\n`);
    });
}
