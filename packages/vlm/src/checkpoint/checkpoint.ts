// A checkpoint folder: config.json, model.safetensors, tokenizer.json, and for training state
// trainer_state.json + optimizer.safetensors (+ training_weights.safetensors where model.safetensors
// holds averaged weights: the raw parameters that training resumes from) (the optimizer's state dict as `optim.flattenState`
// lays it out: tensors `state.<index>.<field>`, the parameter groups and step counts as metadata). Written into a temporary folder
// and renamed into place, so a crash leaves the previous checkpoint whole.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { exists, writeDirAtomic } from "@sr2se/core";
import { io } from "@sr2se/tensor";
import { type VlmConfig, validateConfig } from "../config.js";
import type { HostTensors } from "./weights.js";

/** A safetensors file in memory: named host arrays and string metadata. */
export interface SafetensorsContent {
  tensors: HostTensors;
  metadata: Record<string, string>;
}

/** The files of a checkpoint, in memory. */
export interface CheckpointFiles {
  config: VlmConfig;
  weights: HostTensors;
  tokenizer: Record<string, unknown>;
  /** trainer_state.json, when the checkpoint holds training state. */
  trainerState?: Record<string, unknown>;
  /** optimizer.safetensors, when the checkpoint holds training state. */
  optimizer?: SafetensorsContent;
  /**
   * training_weights.safetensors: the parameters as training left them, where `weights` (the model
   * to use) are an average of them (SFT's `ema_decay`); resuming starts from these.
   */
  trainingWeights?: HostTensors;
}

/** Writes a checkpoint folder atomically. */
export async function writeCheckpoint(dir: string, files: CheckpointFiles): Promise<void> {
  await writeDirAtomic(dir, async (tmp) => {
    await writeFile(join(tmp, "config.json"), `${JSON.stringify(files.config, null, 2)}\n`);
    await writeFile(join(tmp, "model.safetensors"), io.encodeSafetensors(files.weights, { format: "pt" }));
    await writeFile(join(tmp, "tokenizer.json"), JSON.stringify(files.tokenizer));
    if (files.trainerState)
      await writeFile(join(tmp, "trainer_state.json"), `${JSON.stringify(files.trainerState, null, 2)}\n`);
    if (files.optimizer)
      await writeFile(
        join(tmp, "optimizer.safetensors"),
        io.encodeSafetensors(files.optimizer.tensors, files.optimizer.metadata),
      );
    if (files.trainingWeights)
      await writeFile(
        join(tmp, "training_weights.safetensors"),
        io.encodeSafetensors(files.trainingWeights, { format: "pt" }),
      );
  });
}

async function readJsonFile(file: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(
      code === "ENOENT" ? `${file}: not found` : `${file}: cannot read: ${(err as Error).message}`,
    );
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`${file}: not valid JSON: ${(err as Error).message}`);
  }
}

/** Returns the folder a checkpoint's files are in: `dir`, or the `checkpoint/` folder of an SFT output folder. */
export async function checkpointDirOf(dir: string): Promise<string> {
  const nested = join(dir, "checkpoint");
  return !(await exists(join(dir, "config.json"))) && (await exists(join(nested, "config.json")))
    ? nested
    : dir;
}

/**
 * Returns the sha256 (hex) of a checkpoint's config.json, model.safetensors and tokenizer.json, in
 * that order: two folders with the same hash load the same model. Errors name the missing file.
 */
export async function checkpointHash(dir: string): Promise<string> {
  const ckpt = await checkpointDirOf(dir);
  const hash = createHash("sha256");
  for (const name of ["config.json", "model.safetensors", "tokenizer.json"]) {
    const file = join(ckpt, name);
    if (!(await exists(file))) throw new Error(`${file}: not found`);
    hash.update(`${name}\0`);
    for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  }
  return hash.digest("hex");
}

/** Reads a checkpoint folder; errors name the file (and the tensor or field). */
export async function readCheckpoint(
  dir: string,
  opts: { trainingState?: boolean } = {},
): Promise<CheckpointFiles> {
  if (!(await exists(dir))) throw new Error(`${dir}: checkpoint folder not found`);
  const configFile = join(dir, "config.json");
  const config = validateConfig((await readJsonFile(configFile)) as unknown as VlmConfig, configFile);
  const weightsFile = join(dir, "model.safetensors");
  if (!(await exists(weightsFile))) throw new Error(`${weightsFile}: not found`);
  const { tensors: weights } = await readSafetensorsFile(weightsFile);
  const tokenizer = await readJsonFile(join(dir, "tokenizer.json"));
  const files: CheckpointFiles = { config, weights, tokenizer };
  if (opts.trainingState) {
    const stateFile = join(dir, "trainer_state.json");
    if (await exists(stateFile)) {
      files.trainerState = await readJsonFile(stateFile);
      const optFile = join(dir, "optimizer.safetensors");
      if (!(await exists(optFile)))
        throw new Error(`${optFile}: not found (trainer_state.json is there, the optimizer state is not)`);
      files.optimizer = await readSafetensorsFile(optFile);
      const rawFile = join(dir, "training_weights.safetensors");
      if (await exists(rawFile)) files.trainingWeights = (await readSafetensorsFile(rawFile)).tensors;
    }
  }
  return files;
}

/** Returns the tensors (as host arrays) and metadata of a safetensors file; errors name the file. */
export async function readSafetensorsFile(file: string): Promise<SafetensorsContent> {
  let buf: Uint8Array;
  try {
    buf = await readFile(file);
  } catch (err) {
    throw new Error(`${file}: cannot read: ${(err as Error).message}`);
  }
  return io.decodeSafetensors(buf, file);
}
