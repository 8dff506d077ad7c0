// Supervised fine-tuning on gold responses: AdamW, linear warmup + cosine decay, global-norm
// clipping, periodic validation, a metrics row per step in logs/sft.jsonl, checkpoints with the
// full training state every N steps, and exact resume (the batch order is recomputed from the seed
// and the step, the optimizer moments come from optimizer.safetensors).
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createProgress, exists, MetricsLog, recoverDirAtomic, type Sample } from "@sr2se/core";
import { readDataset } from "@sr2se/data";
import { optim, type Tensor } from "@sr2se/tensor";
import { readCheckpoint } from "../checkpoint/checkpoint.js";
import { type HostTensors, loadStateDict } from "../checkpoint/weights.js";
import { defaultConfig, numImageTokens, type VlmConfig } from "../config.js";
import { preprocessImage } from "../data/images.js";
import { trainBpe } from "../tokenizer/bpe-trainer.js";
import { VlmTokenizer } from "../tokenizer/tokenizer.js";
import { VLM } from "../vlm.js";
import { type Validation, validate } from "./evaluate.js";
import {
  corpusOf,
  encodeExamples,
  encodeVerifyExamples,
  epochBatches,
  objectTokens,
  reasoningWeights,
  type TrainExample,
  verifySampleIndices,
} from "./examples.js";
import { optimizerStateFiles, trainingOptimizer } from "./optimizer-state.js";
import { backwardLoss, clipGradients } from "./training-step.js";
import {
  attributeClasses,
  cellGrid,
  type LabelledImage,
  patchLabels,
  pretrainVision,
  type VisionPretrainRow,
} from "./vision-pretrain.js";

/**
 * What every trainer of the model optimizes with: steps and batch, AdamW's peak and final learning
 * rate with its warmup and cosine, the weight decay and the global gradient-norm clip (0: none).
 */
export interface OptimizationConfig {
  steps: number;
  batch_size: number;
  lr: number;
  min_lr: number;
  warmup_steps: number;
  weight_decay: number;
  grad_clip: number;
}

/** Training hyper-parameters (the `training` section of a config file). */
export interface SftTrainingConfig extends OptimizationConfig {
  /** Longest training sequence in tokens (before image expansion); longer ones are cut. */
  max_length: number;
  eval_every: number;
  eval_samples: number;
  /** Tokens generated per validation answer. */
  eval_max_tokens: number;
  save_every: number;
  seed: number;
  /**
   * Steps of vision-tower pretraining on the samples' object annotations before SFT (0: none; skipped
   * when no sample has `objects`). See vision-pretrain.ts for why.
   */
  vision_pretrain_steps: number;
  vision_pretrain_lr: number;
  /**
   * Learning-rate multiplier of the vision tower during SFT once it is pretrained (0 keeps it
   * frozen, as LLaVA keeps its encoder); a tower that was not pretrained trains at the full rate.
   */
  vision_lr_scale: number;
  /** Vocabulary size of the BPE tokenizer trained on the data when the run starts. */
  vocab_size: number;
  /**
   * Decay of an exponential moving average of the weights, updated after every step (0: none). With
   * one, the checkpoint's model.safetensors holds the average (the model to use) and
   * training_weights.safetensors the raw weights that resuming continues from.
   */
  ema_decay: number;
  /**
   * Loss weight of the reasoning tokens (from `<think>` to the end of the response) against the
   * description's, which weigh 1; the loss is the weighted mean over a batch's tokens (1: the plain
   * mean). The description is most of a response, so the plain mean spends most of the gradient on it.
   */
  reasoning_loss_weight: number;
  /**
   * Share (0–1) of the training samples that also give a text-only example of Vision-SR1's
   * self-reward pass: the verify prompt over the gold description, without the image, answered with
   * the reasoning and the answer (0: none). IPR's winner check and GRPO's description reward ask the
   * policy exactly this; a model trained on images only answers it out of distribution.
   */
  verify_share: number;
  /**
   * Makes each object name of the training scenes (" <color> <shape>", from the samples' `objects`)
   * one atomic token of the tokenizer trained when the run starts, as a real VLM's vocabulary holds
   * "dog" whole: the asked object and the described ones are then the same token, and answering
   * "is there one?" is a token match instead of binding a color token to a shape token.
   */
  object_tokens: boolean;
}

/** The default SFT recipe for the default model on the shapes world. */
export const DEFAULT_TRAINING: SftTrainingConfig = {
  steps: 2400,
  batch_size: 16,
  lr: 3e-3,
  min_lr: 3e-4,
  warmup_steps: 50,
  weight_decay: 0.01,
  grad_clip: 1,
  max_length: 320,
  eval_every: 400,
  eval_samples: 32,
  eval_max_tokens: 160,
  save_every: 200,
  seed: 0,
  vocab_size: 512,
  vision_pretrain_steps: 400,
  vision_pretrain_lr: 3e-3,
  vision_lr_scale: 0,
  ema_decay: 0,
  reasoning_loss_weight: 1,
  verify_share: 0,
  object_tokens: false,
};

/** A config file: any part of the model config (`vision_config`, `text_config`, …) and of `training`. */
export interface SftConfigFile {
  training?: Partial<SftTrainingConfig>;
  vision_config?: Partial<VlmConfig["vision_config"]>;
  text_config?: Partial<VlmConfig["text_config"]>;
  projector_hidden_size?: number;
  image_mean?: [number, number, number];
  image_std?: [number, number, number];
}

/** Options of an SFT run. */
export interface SftOptions {
  /** Dataset folder with train.jsonl (and val.jsonl for validation). */
  data: string;
  /** Output folder: checkpoint/ and logs/sft.jsonl. */
  out: string;
  config?: SftConfigFile;
  /** Overrides training.steps. */
  steps?: number;
  /** Continue from out/checkpoint when it holds training state. */
  resume?: boolean;
  /** Progress on stderr (default true). */
  progress?: boolean;
  /** Stop after this many steps of this call (for tests); the schedule still spans all steps. */
  stopAfter?: number;
  /** Called after each step's metrics row is written. */
  onStep?: (row: SftLogRow) => void;
}

/** One metrics row of logs/sft.jsonl. */
export interface SftLogRow {
  step: number;
  loss: number;
  lr: number;
  grad_norm: number;
  tokens: number;
  tokens_per_s: number;
  elapsed_s: number;
  val_loss?: number;
  val_accuracy?: number;
  val_format?: number;
}

/** What a finished run returns. */
export interface SftResult {
  checkpoint: string;
  steps: number;
  lastLoss: number;
  validation?: Validation;
  seconds: number;
}

/** Returns the model config: the defaults for the tokenizer, overlaid with the config file. */
export function resolveModelConfig(tok: VlmTokenizer, file: SftConfigFile = {}): VlmConfig {
  const base = defaultConfig(tok.vocabSize, { image: tok.imageId, eos: tok.eosId });
  return {
    ...base,
    vision_config: { ...base.vision_config, ...file.vision_config },
    text_config: { ...base.text_config, ...file.text_config, vocab_size: tok.vocabSize },
    projector_hidden_size: file.projector_hidden_size ?? base.projector_hidden_size,
    image_mean: file.image_mean ?? base.image_mean,
    image_std: file.image_std ?? base.image_std,
  };
}

async function readSamples(file: string): Promise<{ samples: Sample[]; images: string[] }> {
  const ds = await readDataset(file, { checkImages: false });
  return { samples: ds.records.map((r) => r.sample), images: ds.records.map((r) => r.imagePath) };
}

/** Trains a VLM on a dataset's gold responses; resolves when the last step's checkpoint is written. */
export async function trainSft(opts: SftOptions): Promise<SftResult> {
  const started = Date.now();
  const training: SftTrainingConfig = { ...DEFAULT_TRAINING, ...opts.config?.training };
  if (opts.steps !== undefined) training.steps = opts.steps;
  const ckptDir = join(opts.out, "checkpoint");
  const logFile = join(opts.out, "logs", "sft.jsonl");
  await mkdir(join(opts.out, "logs"), { recursive: true });

  const trainFile = join(opts.data, "train.jsonl");
  if (!(await exists(trainFile)))
    throw new Error(`${trainFile}: not found (--data must be a dataset folder with train.jsonl)`);
  const train = await readSamples(trainFile);
  if (train.samples.length === 0) throw new Error(`${trainFile}: no samples`);
  const valFile = join(opts.data, "val.jsonl");
  const val = (await exists(valFile)) ? await readSamples(valFile) : { samples: [], images: [] };

  // the model: resumed from the checkpoint, or new with a tokenizer trained on this data
  let vlm: VLM;
  let startStep = 0;
  let visionPretrained = false;
  let resumed: { files: Awaited<ReturnType<typeof readCheckpoint>>; dir: string } | null = null;
  // a kill between the checkpoint's renames leaves the new folder whole beside it: move it into place
  if (opts.resume) await recoverDirAtomic(ckptDir);
  if (opts.resume && (await exists(join(ckptDir, "trainer_state.json")))) {
    const files = await readCheckpoint(ckptDir, { trainingState: true });
    vlm = VLM.fromFiles(files, ckptDir);
    // with a weight average, model.safetensors holds the average; training goes on from the raw weights
    if (files.trainingWeights)
      loadStateDict(vlm, files.trainingWeights, join(ckptDir, "training_weights.safetensors"));
    const state = files.trainerState as {
      step: number;
      training: SftTrainingConfig;
      vision_pretrained?: boolean;
    };
    startStep = state.step;
    visionPretrained = state.vision_pretrained === true;
    Object.assign(training, state.training, opts.steps !== undefined ? { steps: opts.steps } : {});
    resumed = { files, dir: ckptDir };
  } else {
    const verify = verifySampleIndices(train.samples, training.verify_share, training.seed);
    const tok = VlmTokenizer.fromJSON(
      trainBpe(corpusOf(train.samples, verify), {
        vocabSize: training.vocab_size,
        extraTokens: training.object_tokens ? objectTokens(train.samples) : [],
      }),
    );
    vlm = new VLM(resolveModelConfig(tok, opts.config), tok, training.seed);
  }
  if (startStep >= training.steps) {
    return {
      checkpoint: ckptDir,
      steps: startStep,
      lastLoss: Number.NaN,
      seconds: (Date.now() - started) / 1000,
    };
  }
  // on resume, rows logged after the checkpoint belong to steps that run again
  const log = await MetricsLog.open<SftLogRow & { [k: string]: number }>(
    logFile,
    resumed ? { resumeFrom: startStep } : {},
  );

  const tok = vlm.tokenizer;
  const imageTokens = numImageTokens(vlm.config.vision_config);
  const examples = [
    ...encodeExamples(tok, train.samples, imageTokens, training.max_length),
    ...encodeVerifyExamples(
      tok,
      train.samples,
      verifySampleIndices(train.samples, training.verify_share, training.seed),
      training.max_length,
    ),
  ];
  if (!(training.reasoning_loss_weight > 0))
    throw new Error(`training.reasoning_loss_weight must be > 0, got ${training.reasoning_loss_weight}`);
  const weights =
    training.reasoning_loss_weight === 1
      ? undefined
      : examples.map((e) =>
          reasoningWeights(e.labels, tok.encode("<think>"), training.reasoning_loss_weight),
        );
  const valExamples: TrainExample[] = encodeExamples(
    tok,
    val.samples.slice(0, training.eval_samples),
    imageTokens,
    training.max_length,
  );
  const cache = new Map<string, Promise<Float32Array>>();
  const pixelsOf = (path: string) => {
    let p = cache.get(path);
    if (!p) {
      p = preprocessImage(path, vlm.config);
      cache.set(path, p);
    }
    return p;
  };

  if (startStep === 0 && !resumed && training.vision_pretrain_steps > 0) {
    visionPretrained = await runVisionPretraining(vlm, train, val, pixelsOf, training, opts);
  }
  const visionScale = visionPretrained ? training.vision_lr_scale : 1;
  const schedule = optim.warmupCosine(training.warmup_steps, training.steps, training.min_lr / training.lr);
  const { optimizer, scheduler } = trainingOptimizer(
    vlm,
    {
      lr: training.lr,
      weightDecay: training.weight_decay,
      lrScale: (name) => (name.startsWith("vision_tower.") ? visionScale : 1),
    },
    schedule,
    resumed ? { checkpoint: resumed.files, dir: resumed.dir, step: startStep } : undefined,
  );
  const trainable = vlm.parameters().filter((p) => p.requiresGrad);
  const named = vlm.namedParameters();
  const ema =
    training.ema_decay > 0
      ? new optim.ExponentialMovingAverage(
          named.map(([, p]) => p),
          training.ema_decay,
        )
      : null;
  if (ema && resumed?.files.trainingWeights) {
    const where = join(resumed.dir, "model.safetensors");
    ema.load(
      named.map(([n]) => {
        const t = resumed?.files.weights.get(n);
        if (!t) throw new Error(`${where}: tensor "${n}" is missing`);
        return t.data;
      }),
      Number((resumed.files.trainerState as { ema_updates?: number }).ema_updates ?? 0),
    );
  }

  const batchesPerEpoch = epochBatches(examples, training.batch_size, training.seed, 0).length;
  let epoch = -1;
  let plan: number[][] = [];
  const batchAt = (step: number): number[] => {
    const e = Math.floor(step / batchesPerEpoch);
    if (e !== epoch) {
      epoch = e;
      plan = epochBatches(examples, training.batch_size, training.seed, e);
    }
    return plan[step % batchesPerEpoch];
  };
  const loadBatch = (step: number) =>
    Promise.all(
      batchAt(step).map((i) =>
        examples[i].image === false ? undefined : pixelsOf(train.images[examples[i].sample]),
      ),
    );

  const save = async (step: number) => {
    await vlm.save(ckptDir, {
      trainerState: {
        step,
        training,
        data: opts.data,
        epoch: Math.floor(step / batchesPerEpoch),
        vision_pretrained: visionPretrained,
        ...(ema ? { ema_updates: ema.numUpdates } : {}),
      },
      optimizer: await optimizerStateFiles(optimizer),
      weights: ema ? await averagedWeights(named, ema) : undefined,
    });
  };
  const runValidation = () =>
    validate(vlm, val.samples, valExamples, (i) => pixelsOf(val.images[i]), {
      batchSize: training.batch_size,
      maxTokens: training.eval_max_tokens,
    });

  const progress =
    opts.progress === false ? null : createProgress({ label: "sft", total: training.steps, unit: "steps" });
  progress?.update(startStep);
  const endStep = Math.min(training.steps, startStep + (opts.stopAfter ?? Number.POSITIVE_INFINITY));
  let tokensSeen = 0;
  let lastLoss = Number.NaN;
  let validation: Validation | undefined;
  const loopStart = Date.now();
  let next = loadBatch(startStep);
  for (let step = startStep; step < endStep; step++) {
    const indices = batchAt(step);
    const pixels = await next;
    if (step + 1 < endStep) next = loadBatch(step + 1);
    const seqs = indices.map((i, k) => ({
      ids: examples[i].ids,
      labels: examples[i].labels,
      pixels: pixels[k],
      weights: weights?.[i],
    }));
    lastLoss = await backwardLoss(vlm, seqs);
    if (!Number.isFinite(lastLoss))
      throw new Error(`sft: the loss is ${lastLoss} at step ${step + 1}; lower training.lr`);
    const gradNorm = await clipGradients(trainable, training.grad_clip);
    const lr = training.lr * schedule(step);
    optimizer.step();
    ema?.update();
    scheduler.step();
    optimizer.zeroGrad();
    const seqTokens = seqs.reduce((a, s) => a + s.ids.length - 1 + imageTokens, 0);
    tokensSeen += seqTokens;
    const elapsed = (Date.now() - loopStart) / 1000;
    const row: SftLogRow = {
      step: step + 1,
      loss: lastLoss,
      lr,
      grad_norm: gradNorm,
      tokens: seqTokens,
      tokens_per_s: Math.round(tokensSeen / Math.max(elapsed, 1e-3)),
      elapsed_s: Math.round(elapsed * 10) / 10,
    };
    const done = step + 1;
    if (
      valExamples.length > 0 &&
      training.eval_every > 0 &&
      (done % training.eval_every === 0 || done === training.steps)
    ) {
      validation = await runValidation();
      Object.assign(row, validation);
    }
    await log.append(row as SftLogRow & { [k: string]: number });
    opts.onStep?.(row);
    progress?.tick(1, {
      loss: lastLoss,
      "tok/s": row.tokens_per_s,
      ...(validation ? { acc: validation.val_accuracy } : {}),
    });
    if (done === training.steps || (training.save_every > 0 && done % training.save_every === 0))
      await save(done);
  }
  progress?.stop();
  if (
    endStep < training.steps &&
    endStep > startStep &&
    (training.save_every <= 0 || endStep % training.save_every !== 0)
  )
    await save(endStep);
  return {
    checkpoint: ckptDir,
    steps: endStep,
    lastLoss,
    validation,
    seconds: (Date.now() - started) / 1000,
  };
}

/** The averaged weights under the parameters' names, as host arrays (model.safetensors). */
async function averagedWeights(
  named: [string, Tensor][],
  ema: optim.ExponentialMovingAverage,
): Promise<HostTensors> {
  const out: HostTensors = new Map();
  for (let i = 0; i < named.length; i++) {
    const a = ema.averages[i];
    out.set(named[i][0], { dtype: a.dtype, shape: a.shape.slice(), data: (await a.data()).slice() });
  }
  return out;
}

/**
 * Pretrains the vision tower on the training samples' object annotations (one image each, shuffled
 * with the seed), scoring on up to 256 validation images; logs to logs/vision_pretrain.jsonl.
 * Returns false (and trains nothing) when no training sample has objects.
 */
async function runVisionPretraining(
  vlm: VLM,
  train: { samples: Sample[]; images: string[] },
  val: { samples: Sample[]; images: string[] },
  pixelsOf: (path: string) => Promise<Float32Array>,
  training: SftTrainingConfig,
  opts: SftOptions,
): Promise<boolean> {
  const classes = attributeClasses(train.samples);
  if (!classes) return false;
  const grid = cellGrid([...train.samples, ...val.samples]);
  const side = vlm.config.vision_config.image_size / vlm.config.vision_config.patch_size;
  const labelled = (set: { samples: Sample[]; images: string[] }, limit: number): LabelledImage[] => {
    const seen = new Set<string>();
    const out: LabelledImage[] = [];
    set.samples.forEach((s, i) => {
      const path = set.images[i];
      if (!s.objects || seen.has(path) || out.length >= limit) return;
      seen.add(path);
      out.push({ pixels: () => pixelsOf(path), labels: patchLabels(s.objects, classes, side, grid) });
    });
    return out;
  };
  const logFile = join(opts.out, "logs", "vision_pretrain.jsonl");
  await writeFile(logFile, "");
  const progress =
    opts.progress === false
      ? null
      : createProgress({ label: "vision pretraining", total: training.vision_pretrain_steps, unit: "steps" });
  const rows: VisionPretrainRow[] = [];
  const last = await pretrainVision(
    vlm,
    classes,
    labelled(train, Number.POSITIVE_INFINITY),
    labelled(val, 256),
    {
      steps: training.vision_pretrain_steps,
      batchSize: training.batch_size,
      lr: training.vision_pretrain_lr,
      seed: training.seed,
      onStep: () => progress?.tick(1),
      onLog: (row) => rows.push(row),
    },
  );
  progress?.stop();
  await writeFile(logFile, rows.map((r) => `${JSON.stringify(r)}\n`).join(""));
  if (opts.progress !== false && last.accuracy)
    process.stderr.write(
      `vision pretraining: held-out accuracy ${Object.entries(last.accuracy)
        .map(([k, v]) => `${k} ${(v * 100).toFixed(1)}%`)
        .join(", ")}\n`,
    );
  return true;
}
