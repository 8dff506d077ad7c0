import type { Command } from "commander";
import { register as registerSft } from "./train.js";
import { register as registerGrpo } from "./train-grpo.js";
import { register as registerHsrEe } from "./train-hsr-ee.js";
import { register as registerSrDpo } from "./train-sr-dpo.js";

/** Registers the `train` group, the one place it is created, and each trainer under it. */
export function register(program: Command): void {
  const train = program
    .command("train")
    .description("train the policy: supervised fine-tuning, SR-DPO, GRPO");
  registerSft(train);
  registerHsrEe(train);
  registerSrDpo(train);
  registerGrpo(train);
}
