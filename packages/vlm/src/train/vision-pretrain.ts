// Vision-tower pretraining on scene annotations. LLaVA starts from a pretrained CLIP encoder and
// keeps it frozen; nothing pretrained can be downloaded here, so the tower is first trained to name
// what each patch holds (one linear head per object attribute: shape, color, size, with "none" for
// an empty patch), from the `objects` the shapes world's samples carry. The heads are thrown away.
// Trained end to end from the language loss alone, the tower's gradients start as noise and Adam
// turns that noise into full-size steps, so the features never settle (measured: attributes read
// back from descriptions at chance after 1,600 steps); pretrained and frozen, they are read at 95%.
import { Rng, type Sample, type SceneObject } from "@sr2se/core";
import { crossEntropy, nn, optim, type Tensor, tensor, tidy } from "@sr2se/tensor";
import type { VlmConfig } from "../config.js";
import { configureOptimizers } from "../model/configure-optimizers.js";
import { initLinear } from "../model/init.js";
import type { VisionTransformer } from "../model/vision.js";
import type { VLM } from "../vlm.js";

/** The attributes a head is trained for, in this order. */
export const PATCH_ATTRIBUTES = ["shape", "color", "size"] as const;
const NONE = "none";

/** Per image: the class index of each attribute at each patch ([attribute][patch]), 0 = no object. */
export type PatchLabels = Int32Array[];

/** The classes of each attribute (index 0 is "none"), read from the samples' objects. */
export type AttributeClasses = Record<(typeof PATCH_ATTRIBUTES)[number], string[]>;

/** Returns the attribute classes of samples' objects, or null when no sample has objects. */
export function attributeClasses(samples: readonly Sample[]): AttributeClasses | null {
  const sets = Object.fromEntries(PATCH_ATTRIBUTES.map((a) => [a, new Set<string>()])) as Record<
    (typeof PATCH_ATTRIBUTES)[number],
    Set<string>
  >;
  let any = false;
  for (const s of samples)
    for (const o of s.objects ?? []) {
      any = true;
      for (const a of PATCH_ATTRIBUTES) sets[a].add(String(o[a]));
    }
  if (!any) return null;
  return Object.fromEntries(
    PATCH_ATTRIBUTES.map((a) => [a, [NONE, ...[...sets[a]].sort()]]),
  ) as AttributeClasses;
}

/** The grid the samples' `cell` indices live on (the largest index plus one). */
export function cellGrid(samples: readonly Sample[]): number {
  let g = 1;
  for (const s of samples) for (const o of s.objects ?? []) g = Math.max(g, o.cell[0] + 1, o.cell[1] + 1);
  return g;
}

/**
 * Returns the labels of every patch of one image: the object whose center falls in the patch (its
 * `center` [x, y] in 0…1 when given, else the middle of its grid cell) names the patch's classes.
 */
export function patchLabels(
  objects: readonly SceneObject[],
  classes: AttributeClasses,
  patchesPerSide: number,
  grid: number,
): PatchLabels {
  const n = patchesPerSide * patchesPerSide;
  const out = PATCH_ATTRIBUTES.map(() => new Int32Array(n));
  for (const o of objects) {
    const center = (o as { center?: unknown }).center;
    const [x, y] =
      Array.isArray(center) && center.length === 2 && center.every((v) => typeof v === "number")
        ? (center as [number, number])
        : [(o.cell[1] + 0.5) / grid, (o.cell[0] + 0.5) / grid];
    const clamp = (v: number) => Math.min(patchesPerSide - 1, Math.max(0, Math.floor(v * patchesPerSide)));
    const p = clamp(y) * patchesPerSide + clamp(x);
    PATCH_ATTRIBUTES.forEach((a, k) => {
      const c = classes[a].indexOf(String(o[a]));
      out[k][p] = Math.max(c, 0);
    });
  }
  return out;
}

/** Options of vision pretraining. */
export interface VisionPretrainOptions {
  steps: number;
  batchSize: number;
  lr: number;
  seed: number;
  /** Called every `logEvery` steps and after the last one. */
  onLog?: (row: VisionPretrainRow) => void;
  logEvery?: number;
  /** Called after each step (progress). */
  onStep?: (step: number) => void;
}

/** One row of logs/vision_pretrain.jsonl. */
export interface VisionPretrainRow {
  step: number;
  loss: number;
  /** Held-out accuracy per attribute on patches that hold an object (when held-out images are given). */
  accuracy?: Record<string, number>;
}

/** A labelled image: its pixel loader and patch labels. */
export interface LabelledImage {
  pixels: () => Promise<Float32Array>;
  labels: PatchLabels;
}

/** The vision tower with one linear classifier a patch attribute on top (the heads are thrown away after). */
class PatchClassifier extends nn.Module {
  constructor(
    readonly vision_tower: VisionTransformer,
    readonly heads: nn.Linear[],
  ) {
    super();
  }
  /** Returns the logits [B·N, classes] of attribute k for pixels [B, C, H, W]. */
  forward(pixels: Tensor, k: number): Tensor {
    const feats = this.vision_tower.forward(pixels);
    const [B, N, E] = feats.shape;
    return this.heads[k].forward(feats.reshape([B * N, E]));
  }
}

/**
 * Trains the vision tower of `vlm` with temporary per-attribute heads on labelled images; returns
 * the held-out accuracy per attribute (patches with an object) when `heldOut` is given.
 */
export async function pretrainVision(
  vlm: VLM,
  classes: AttributeClasses,
  train: readonly LabelledImage[],
  heldOut: readonly LabelledImage[],
  opts: VisionPretrainOptions,
): Promise<VisionPretrainRow> {
  if (train.length === 0) throw new Error("pretrainVision: no labelled images");
  const cfg: VlmConfig = vlm.config;
  const E = cfg.vision_config.hidden_size;
  const S = cfg.vision_config.image_size;
  const plane = cfg.vision_config.num_channels * S * S;
  const N = (S / cfg.vision_config.patch_size) ** 2;
  for (const [set, items] of [
    ["training", train],
    ["held-out", heldOut],
  ] as const) {
    items.forEach((it, i) => {
      if (it.labels.length !== PATCH_ATTRIBUTES.length || it.labels.some((l) => l.length !== N))
        throw new Error(
          `pretrainVision: ${set} image ${i} has labels for ${it.labels[0]?.length ?? 0} patches, the tower makes ${N} (${S} px / patch ${cfg.vision_config.patch_size}, squared)`,
        );
    });
  }
  const rng = new Rng(`${opts.seed}:vision-pretrain`);
  const classifier = new PatchClassifier(
    vlm.vision_tower,
    PATCH_ATTRIBUTES.map((a) => initLinear(E, classes[a].length, rng, { bias: true })),
  );
  const optimizer = configureOptimizers(classifier, { lr: opts.lr, weightDecay: 0.01 });
  // a short warmup, then constant: the run is a few hundred steps
  const scheduler = new optim.LambdaLR(optimizer, optim.constant(20));
  const batchOf = async (items: readonly LabelledImage[]) => {
    const px = new Float32Array(items.length * plane);
    const pix = await Promise.all(items.map((it) => it.pixels()));
    pix.forEach((p, i) => {
      px.set(p, i * plane);
    });
    const labels = PATCH_ATTRIBUTES.map((_, k) => {
      const l = new Int32Array(items.length * N);
      items.forEach((it, i) => {
        l.set(it.labels[k], i * N);
      });
      return l;
    });
    return { pixels: tensor(px, { shape: [items.length, cfg.vision_config.num_channels, S, S] }), labels };
  };
  const logitsOf = (pixels: Tensor, k: number) => classifier.forward(pixels, k);

  const evaluate = async (): Promise<Record<string, number> | undefined> => {
    if (heldOut.length === 0) return undefined;
    const acc: Record<string, number> = {};
    const right = PATCH_ATTRIBUTES.map(() => 0);
    let occupied = 0;
    for (let s = 0; s < heldOut.length; s += 64) {
      const items = heldOut.slice(s, s + 64);
      const { pixels, labels } = await batchOf(items);
      const preds = tidy(() => PATCH_ATTRIBUTES.map((_, k) => logitsOf(pixels, k).argmax(-1)));
      pixels.dispose();
      const data = await Promise.all(preds.map((p) => p.data()));
      for (const p of preds) p.dispose();
      for (let i = 0; i < labels[0].length; i++) {
        if (labels[0][i] === 0) continue;
        occupied++;
        PATCH_ATTRIBUTES.forEach((_, k) => {
          if (data[k][i] === labels[k][i]) right[k]++;
        });
      }
    }
    PATCH_ATTRIBUTES.forEach((a, k) => {
      acc[a] = occupied ? right[k] / occupied : 0;
    });
    return acc;
  };

  const logEvery = opts.logEvery ?? 100;
  let last: VisionPretrainRow = { step: 0, loss: Number.NaN };
  for (let step = 0; step < opts.steps; step++) {
    const items = Array.from({ length: opts.batchSize }, () => train[rng.int(0, train.length)]);
    const { pixels, labels } = await batchOf(items);
    const lossT = tidy(() => {
      let loss: Tensor | null = null;
      PATCH_ATTRIBUTES.forEach((_, k) => {
        const l = crossEntropy(logitsOf(pixels, k), tensor(labels[k], { dtype: "int32" }));
        loss = loss ? loss.add(l) : l;
      });
      const total = (loss as unknown as Tensor).div(PATCH_ATTRIBUTES.length);
      total.backward();
      return total.detach();
    });
    pixels.dispose();
    const loss = await lossT.item();
    lossT.dispose();
    if (!Number.isFinite(loss))
      throw new Error(`vision pretraining: the loss is ${loss} at step ${step + 1}`);
    optim.clipGradNorm(classifier.parameters(), 1).dispose();
    optimizer.step();
    scheduler.step();
    optimizer.zeroGrad();
    opts.onStep?.(step + 1);
    last = { step: step + 1, loss };
    if ((step + 1) % logEvery === 0 || step + 1 === opts.steps) {
      if (step + 1 === opts.steps) last.accuracy = await evaluate();
      opts.onLog?.(last);
    }
  }
  optimizer.dispose();
  for (const h of classifier.heads) h.dispose();
  return last;
}
