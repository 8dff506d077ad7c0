import type { Command } from "commander";
import { register as registerData } from "./data.js";
import { register as registerDoctor } from "./doctor.js";
import { register as registerEval } from "./eval.js";
import { register as registerEvalHsrEe } from "./eval-hsr-ee.js";
import { register as registerExperiment } from "./experiment.js";
import { register as registerIpr } from "./ipr.js";
import { register as registerPipeline } from "./pipeline.js";
import { register as registerPredict } from "./predict.js";
import { register as registerServe } from "./serve.js";
import { register as registerTokenizer } from "./tokenizer.js";
import { register as registerTrain } from "./train-group.js";
import { register as registerWorker } from "./worker.js";

/** Every command group, in the order `sr2se --help` lists them. Each file registers its own subcommands. */
export const commandGroups: Array<(program: Command) => void> = [
  registerDoctor,
  registerPipeline,
  registerExperiment,
  registerData,
  registerTokenizer,
  registerTrain,
  registerPredict,
  registerIpr,
  registerEval,
  registerEvalHsrEe,
  registerServe,
  registerWorker,
];
