// A checkpoint written by 1f4a8ce (before the model moved onto @sr2se/tensor's nn.Module and
// optim.AdamW) loads bit for bit and resumes training; its optimizer moments are carried over.
import { cp, mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { synthesize } from "@sr2se/data";
import { io } from "@sr2se/tensor";
import { describe, expect, it } from "vitest";
import { readCheckpoint } from "../src/checkpoint/checkpoint.js";
import { configureOptimizers } from "../src/model/configure-optimizers.js";
import { loadOptimizerState } from "../src/train/optimizer-state.js";
import { type SftLogRow, trainSft } from "../src/train/sft.js";
import { VLM } from "../src/vlm.js";

const fixture = join(import.meta.dirname, "fixtures/ckpt-1f4a8ce");

describe("a checkpoint from 1f4a8ce", () => {
  it("loads every weight bit for bit and computes the log-probs it computed", async () => {
    const vlm = await VLM.load(fixture);
    const { tensors: stored } = io.decodeSafetensors(await readFile(join(fixture, "model.safetensors")));
    const params = vlm.namedParameters();
    expect(params.map(([n]) => n).sort()).toEqual([...stored.keys()].sort());
    for (const [name, p] of params) expect(await p.data(), name).toEqual(stored.get(name)?.data);

    const expected = JSON.parse(await readFile(join(fixture, "expected.json"), "utf8"));
    const image = await readFile(join(fixture, "image.png"));
    const got = await vlm.sequenceLogProbs([
      {
        image,
        prompt: "How many circles are there?",
        completion: "<description>A red circle.</description><think>Count 1.</think>\\boxed{1}",
      },
      { prompt: "Is there a cat?", completion: "\\boxed{no}" },
    ]);
    expect(Array.from(await got.sum.data())).toEqual(expected.sum);
    expect(got.tokens).toEqual(expected.tokens);
    const gen = await vlm.generate(
      [{ image, messages: [{ role: "user", content: "How many circles are there?" }] }],
      { maxTokens: 12 },
    );
    expect(gen[0].text).toBe(expected.generation);
  });

  it("carries its per-parameter Adam moments into the optimizer", async () => {
    const files = await readCheckpoint(fixture, { trainingState: true });
    const vlm = VLM.fromFiles(files, fixture);
    const optimizer = configureOptimizers(vlm, {
      lr: 0.01,
      weightDecay: 0.01,
      lrScale: (n) => (n.startsWith("vision_tower.") ? 0 : 1),
    });
    loadOptimizerState(optimizer, vlm, files.optimizer!, files.trainerState!, "optimizer.safetensors");
    const p = vlm.language_model.model.norm.weight!;
    const st = optimizer.state.get(p)!;
    expect(st.step).toBe(4);
    expect(await (st.expAvg as import("@sr2se/tensor").Tensor).data()).toEqual(
      files.optimizer!.tensors.get("language_model.model.norm.weight.exp_avg")?.data,
    );
  });

  it("resumes its SFT run to the end", async () => {
    const root = await mkdtemp(join(tmpdir(), "vlm-legacy-"));
    const data = join(root, "data");
    await synthesize({ out: data, counts: { train: 16, val: 2, test: 2 }, seed: 3, config: { size: 32 } });
    const out = join(root, "run");
    await cp(fixture, join(out, "checkpoint"), { recursive: true });
    const rows: SftLogRow[] = [];
    const result = await trainSft({ data, out, resume: true, progress: false, onStep: (r) => rows.push(r) });
    expect(result.steps).toBe(8);
    expect(rows.map((r) => r.step)).toEqual([5, 6, 7, 8]);
    expect(rows.every((r) => Number.isFinite(r.loss))).toBe(true);
  });

  it("names the missing moment and says how to go on when the optimizer file lacks one", async () => {
    const files = await readCheckpoint(fixture, { trainingState: true });
    files.optimizer!.tensors.delete("language_model.model.norm.weight.exp_avg_sq");
    const vlm = VLM.fromFiles(files, fixture);
    const optimizer = configureOptimizers(vlm, { lr: 0.01, weightDecay: 0.01 });
    expect(() =>
      loadOptimizerState(optimizer, vlm, files.optimizer!, files.trainerState!, "ckpt/optimizer.safetensors"),
    ).toThrow(
      /ckpt\/optimizer\.safetensors: tensor "language_model\.model\.norm\.weight\.exp_avg_sq" is missing; load the weights alone/,
    );
  });
});
