import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Sample, SceneObject } from "@sr2se/core";
import { readDataset, synthesize } from "@sr2se/data";
import { beforeAll, describe, expect, it } from "vitest";
import { tinySftModel, tinyVision } from "../../../test-support/tiny-vlm.js";
import { preprocessImage } from "../src/data/images.js";
import { resolveModelConfig, type SftConfigFile, trainSft } from "../src/train/sft.js";
import {
  attributeClasses,
  cellGrid,
  type LabelledImage,
  patchLabels,
  pretrainVision,
} from "../src/train/vision-pretrain.js";
import { VLM } from "../src/vlm.js";
import { tinyTokenizer } from "./tiny.js";

const obj = (o: Partial<SceneObject> & { center?: [number, number] }): SceneObject =>
  ({ shape: "circle", color: "red", size: "small", cell: [0, 0], ...o }) as SceneObject;
const sample = (objects: SceneObject[]): Sample => ({
  id: "s",
  image: "x.png",
  question: "q",
  answer: "a",
  objects,
});

describe("patch labels", () => {
  it("reads classes from the objects, with none first", () => {
    const c = attributeClasses([
      sample([obj({ shape: "star", color: "blue" }), obj({ size: "large" })]),
      sample([]),
    ]);
    expect(c).toEqual({
      shape: ["none", "circle", "star"],
      color: ["none", "blue", "red"],
      size: ["none", "large", "small"],
    });
    expect(attributeClasses([sample([]), { id: "t", image: "y.png", question: "", answer: "" }])).toBeNull();
  });

  it("puts an object in the patch of its center, or of its cell's middle", () => {
    const objects = [
      obj({ shape: "star", color: "blue", cell: [0, 2], center: [0.9, 0.1] }),
      obj({ cell: [2, 1] }), // no center: the middle of cell (2, 1) of a 3×3 grid is (0.5, 0.83)
    ];
    const classes = attributeClasses([sample(objects)]);
    if (!classes) throw new Error("no classes");
    expect(cellGrid([sample(objects)])).toBe(3);
    const [shape, color, size] = patchLabels(objects, classes, 6, 3);
    expect(shape.length).toBe(36);
    expect(shape[0 * 6 + 5]).toBe(classes.shape.indexOf("star"));
    expect(color[0 * 6 + 5]).toBe(classes.color.indexOf("blue"));
    expect(shape[5 * 6 + 3]).toBe(classes.shape.indexOf("circle"));
    expect(size[5 * 6 + 3]).toBe(classes.size.indexOf("small"));
    // every other patch is empty
    expect([...shape].filter((v) => v !== 0).length).toBe(2);
  });
});

describe("vision pretraining", () => {
  let data: string;
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "vlm-vpre-"));
    data = join(root, "data");
    await synthesize({ out: data, counts: { train: 160, val: 32, test: 0 }, seed: 5, config: { size: 48 } });
  });

  it("learns what each patch holds: held-out color and shape well above chance", async () => {
    const tok = tinyTokenizer();
    // the default vision tower: 48 px, one patch per cell of the 3×3 grid
    const config = resolveModelConfig(tok, {});
    const vlm = new VLM(config, tok);
    const read = async (file: string) => {
      const ds = await readDataset(join(data, file), { checkImages: false });
      return ds.records.map((r) => ({ sample: r.sample, path: r.imagePath }));
    };
    const train = await read("train.jsonl");
    const val = await read("val.jsonl");
    const classes = attributeClasses(train.map((t) => t.sample));
    if (!classes) throw new Error("the shapes world has objects");
    const grid = cellGrid(train.map((t) => t.sample));
    const label = (t: { sample: Sample; path: string }): LabelledImage => ({
      pixels: () => preprocessImage(t.path, config),
      labels: patchLabels(t.sample.objects ?? [], classes, 3, grid),
    });
    const logged: number[] = [];
    const last = await pretrainVision(vlm, classes, train.map(label), val.map(label), {
      steps: 150,
      batchSize: 16,
      lr: 3e-3,
      seed: 1,
      logEvery: 50,
      onLog: (r) => logged.push(r.step),
    });
    expect(logged).toEqual([50, 100, 150]);
    // labels made for another patch grid are refused, not trained on
    const wrong = {
      ...label(train[0]),
      labels: patchLabels(train[0].sample.objects ?? [], classes, 4, grid),
    };
    await expect(
      pretrainVision(vlm, classes, [wrong], [], { steps: 1, batchSize: 1, lr: 1e-3, seed: 1 }),
    ).rejects.toThrow("training image 0 has labels for 16 patches, the tower makes 9");
    const acc = last.accuracy;
    if (!acc) throw new Error("held-out images were given");
    // chance: 1 in 10 colors, 1 in 7 shapes, 1 in 2 sizes
    expect(acc.color).toBeGreaterThan(0.6);
    expect(acc.shape).toBeGreaterThan(0.3);
    expect(acc.size).toBeGreaterThan(0.6);
  });

  const tiny: SftConfigFile = {
    ...tinySftModel,
    vision_config: { ...tinyVision, num_attention_heads: 4 },
    training: { steps: 6, batch_size: 4, eval_every: 0, save_every: 0, vocab_size: 300, max_length: 512 },
  };
  const visionWeights = async (vlm: VLM) =>
    Promise.all(
      vlm.vision_tower.namedParameters().map(async ([n, p]) => [n, Array.from(await p.data())] as const),
    );

  it("train sft pretrains, logs, then keeps the tower frozen (vision_lr_scale 0)", async () => {
    const out = join(root, "frozen");
    await trainSft({
      data,
      out,
      config: { ...tiny, training: { ...tiny.training, vision_pretrain_steps: 30 } },
      progress: false,
    });
    const rows = (await readFile(join(out, "logs", "vision_pretrain.jsonl"), "utf8")).trim().split("\n");
    const lastRow = JSON.parse(rows[rows.length - 1]);
    expect(lastRow.step).toBe(30);
    expect(Object.keys(lastRow.accuracy)).toEqual(["shape", "color", "size"]);
    const state = JSON.parse(await readFile(join(out, "checkpoint", "trainer_state.json"), "utf8"));
    expect(state.vision_pretrained).toBe(true);
    // the same seed pretrains the same tower; SFT then leaves it as it was
    const again = join(root, "frozen-again");
    await trainSft({
      data,
      out: again,
      config: { ...tiny, training: { ...tiny.training, steps: 1, vision_pretrain_steps: 30 } },
      progress: false,
    });
    expect(await visionWeights(await VLM.load(out))).toEqual(await visionWeights(await VLM.load(again)));
  });

  it("without pretraining the tower trains with the rest", async () => {
    const a = join(root, "plain-1");
    const b = join(root, "plain-6");
    const cfg = (steps: number): SftConfigFile => ({
      ...tiny,
      training: { ...tiny.training, steps, vision_pretrain_steps: 0 },
    });
    await trainSft({ data, out: a, config: cfg(1), progress: false });
    await trainSft({ data, out: b, config: cfg(6), progress: false });
    const state = JSON.parse(await readFile(join(b, "checkpoint", "trainer_state.json"), "utf8"));
    expect(state.vision_pretrained).toBe(false);
    expect(await visionWeights(await VLM.load(a))).not.toEqual(await visionWeights(await VLM.load(b)));
  });
});
