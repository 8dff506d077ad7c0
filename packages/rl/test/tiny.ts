// A tiny SFT checkpoint on a tiny shapes-world dataset for the trainer's tests: trained for a few
// steps by vlm's own trainSft, so its responses are the right shape without being right.
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readDataset, synthesize } from "@sr2se/data";
import { type SftConfigFile, trainSft } from "@sr2se/vlm";
import { tinySftModel } from "../../../test-support/tiny-vlm.js";
import type { GrpoSample } from "../src/trainer/grpo.js";

/** The model and SFT recipe of the tests: small enough to run in seconds on two cores. */
export const TINY_SFT: SftConfigFile = {
  ...tinySftModel,
  training: {
    steps: 30,
    batch_size: 8,
    lr: 1e-2,
    warmup_steps: 4,
    save_every: 0,
    eval_every: 0,
    vocab_size: 300,
    vision_pretrain_steps: 0,
  },
};

/** Returns a folder holding `data/` (train 48, val 8) and `sft/checkpoint`, and the prompts. */
export async function tinyRun(): Promise<{
  root: string;
  ckpt: string;
  train: GrpoSample[];
  val: GrpoSample[];
}> {
  const root = await mkdtemp(join(tmpdir(), "rl-grpo-"));
  const data = join(root, "data");
  await synthesize({ out: data, counts: { train: 48, val: 8, test: 0 }, seed: 3, config: { size: 32 } });
  await trainSft({ data, out: join(root, "sft"), config: TINY_SFT, progress: false });
  return {
    root,
    ckpt: join(root, "sft", "checkpoint"),
    train: await samples(join(data, "train.jsonl")),
    val: await samples(join(data, "val.jsonl")),
  };
}

/** Returns the prompts of a dataset file. */
export async function samples(file: string): Promise<GrpoSample[]> {
  const ds = await readDataset(file, { checkImages: false });
  return ds.records.map((r) => ({
    id: r.sample.id,
    image: r.imagePath,
    question: r.sample.question,
    answer: r.sample.answer,
  }));
}
