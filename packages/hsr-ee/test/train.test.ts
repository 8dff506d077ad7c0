import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readCheckpoint } from "@sr2se/vlm";
import { describe, expect, it } from "vitest";
import { GateHead, hsrEeExamples, trainHsrEe } from "../src/tensor.js";
import { images, items, tinyPolicy } from "./policy.js";

const root = await mkdtemp(join(tmpdir(), "hsr-ee-train-"));
const data = join(root, "data");
await mkdir(join(data, "images"), { recursive: true });
const samples = items.map((it, i) => ({
  id: `s-${i}`,
  image: `images/${i}.png`,
  question: it.question,
  answer: it.answer,
  response: it.response,
  family: it.answer === "yes" ? "existence" : "count",
}));
await Promise.all(images.map((png, i) => writeFile(join(data, "images", `${i}.png`), png)));
const jsonl = samples.map((s) => JSON.stringify(s)).join("\n");
await writeFile(join(data, "train.jsonl"), `${jsonl}\n`);
await writeFile(join(data, "val.jsonl"), `${jsonl}\n`);
const sft = join(root, "sft");
await (await tinyPolicy(60)).save(sft);
const config = {
  steps: 4,
  batch_size: 2,
  save_every: 0,
  gate_questions: 3,
  calibration_questions: 3,
  gate_steps: 20,
  max_tokens: 80,
};

describe("trainHsrEe", () => {
  it("a run stopped and resumed ends with the weights of one uninterrupted run, then trains the gate and calibrates τ", async () => {
    const whole = await trainHsrEe({ ckpt: sft, data, out: join(root, "a"), config, progress: false });
    await trainHsrEe({ ckpt: sft, data, out: join(root, "b"), config, progress: false, stopAfter: 2 });
    const resumed = await trainHsrEe({
      ckpt: sft,
      data,
      out: join(root, "b"),
      config,
      progress: false,
      resume: true,
    });
    expect(resumed.steps).toBe(4);
    const a = await readCheckpoint(whole.checkpoint);
    const b = await readCheckpoint(resumed.checkpoint);
    for (const [name, t] of a.weights)
      expect(Array.from(b.weights.get(name)?.data ?? []), name).toEqual(Array.from(t.data));
    const gate = await GateHead.load(whole.gate);
    expect(gate.config.hidden_size).toBe(32);
    expect(gate.config.tau).toBe(0.8);
    expect(gate.config.tau_auto).toBeGreaterThan(0);
    expect(gate.config.tau_auto_method?.split).toBe(join(data, "val.jsonl"));
    const log = (await readFile(join(root, "b", "logs", "hsr-ee.jsonl"), "utf8")).trim().split("\n");
    expect(log.map((l) => JSON.parse(l).step)).toEqual([1, 2, 3, 4]);
  });

  it("trains on the gold responses with IPR's winners beside them, never on a handful of winners alone", async () => {
    const winner = "<description>corrected</description>\n<think>right</think>\n\\boxed{yes}";
    const pair = (id: string, sample: string, chosen: string, chosenCorrect: boolean) =>
      JSON.stringify({
        id,
        sample_id: sample,
        prompt: "p",
        chosen,
        rejected: "r",
        meta: { chosen_correct: chosenCorrect },
      });
    const pairs = join(root, "pairs.jsonl");
    await writeFile(pairs, `${pair("p1", "s-0", winner, true)}\n${pair("p2", "s-1", "wrong", false)}\n`);
    const gold = await hsrEeExamples({ data });
    expect(gold.examples).toHaveLength(samples.length);
    const { examples, questions } = await hsrEeExamples({ data, pairs });
    expect(examples).toHaveLength(samples.length + 1);
    expect(examples.slice(0, samples.length)).toEqual(gold.examples);
    expect(examples[samples.length]?.response).toBe(winner);
    expect(questions).toEqual(gold.questions);
    // no winner judged correct: an error, not a run on the gold responses alone
    await writeFile(pairs, `${pair("p2", "s-1", "wrong", false)}\n`);
    await expect(hsrEeExamples({ data, pairs })).rejects.toThrow("no winner judged correct");
  });

  it("refuses an output folder that already holds a checkpoint unless resuming, and a dataset folder without train.jsonl", async () => {
    await expect(
      trainHsrEe({ ckpt: sft, data, out: join(root, "a"), config, progress: false }),
    ).rejects.toThrow("exists; pass --resume");
    await expect(
      trainHsrEe({ ckpt: sft, data: root, out: join(root, "c"), config, progress: false }),
    ).rejects.toThrow(`${join(root, "train.jsonl")}: not found`);
  });
});
