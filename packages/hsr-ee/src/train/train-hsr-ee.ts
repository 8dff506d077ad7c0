// HSR-EE training. The policy (from the SFT checkpoint) is fine-tuned on responses cut after each of
// their steps and closed with the answer, beside the whole responses, so a trial answer after step k
// is as good as the steps before it allow; then, with the policy frozen, the gate g_φ is trained on
// its trial answers over training questions, and τ is calibrated on the validation split. Resumable
// like SFT: the batch of a step is a function of the seed and the step, and checkpoints carry the
// optimizer state; a finished gate folder is kept.
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { createProgress, exists, MetricsLog, Rng, readPreferencePairs } from "@sr2se/core";
import { readDataset } from "@sr2se/data";
import { optim } from "@sr2se/tensor";
import {
  backwardLoss,
  clipGradients,
  goldResponse,
  type OptimizationConfig,
  optimizerStateFiles,
  readCheckpoint,
  trainingOptimizer,
  VLM,
} from "@sr2se/vlm";
import { trainGate } from "../gate/train-gate.js";
import { chooseThreshold, type ThresholdChoice } from "../metrics/threshold.js";
import { truncatedResponses } from "../steps/truncate.js";
import { type GradedQuestion, labelledTrajectories, stepOutcomes } from "../trials/labelled.js";

/** Hyper-parameters of HSR-EE training. */
export interface HsrEeTrainingConfig extends OptimizationConfig {
  /** Share of a batch that is whole responses; the rest are cut after a step drawn uniformly. */
  whole_share: number;
  save_every: number;
  seed: number;
  /** Training questions whose trial answers train the gate, and validation questions that calibrate τ. */
  gate_questions: number;
  calibration_questions: number;
  gate_steps: number;
  gate_mlp_hidden: number;
  max_tokens: number;
  /** δ of `--tau auto`: accuracy allowed below always-deep (fraction). */
  tau_delta: number;
}

/** The defaults for the default model on the shapes world. */
export const DEFAULT_HSR_EE: HsrEeTrainingConfig = {
  steps: 300,
  batch_size: 16,
  lr: 1e-3,
  min_lr: 1e-4,
  warmup_steps: 20,
  weight_decay: 0.01,
  grad_clip: 1,
  whole_share: 0.34,
  save_every: 100,
  seed: 0,
  gate_questions: 512,
  calibration_questions: 300,
  gate_steps: 400,
  gate_mlp_hidden: 32,
  max_tokens: 256,
  tau_delta: 0.01,
};

/** Options of `trainHsrEe`. */
export interface HsrEeOptions {
  /** The starting policy (an SFT output folder or checkpoint). */
  ckpt: string;
  /** Dataset folder: train.jsonl (responses and gate questions), val.jsonl (τ calibration). */
  data: string;
  /** Output folder: checkpoint/, gate/, logs/hsr-ee.jsonl. */
  out: string;
  /** IPR pairs: their winners (chosen, judged correct) are trained on beside the gold responses. */
  pairs?: string;
  config?: Partial<HsrEeTrainingConfig>;
  resume?: boolean;
  progress?: boolean;
  /** Stop after this many policy steps of this call (tests); the schedule spans all steps. */
  stopAfter?: number;
}

/** What a run returns. */
export interface HsrEeResult {
  checkpoint: string;
  gate: string;
  steps: number;
  lastLoss: number;
  gateLoss?: number;
  tauAuto?: ThresholdChoice;
  seconds: number;
}

/** A training response of the policy. */
export interface Example {
  question: string;
  image: string;
  response: string;
  answer: string;
}

/**
 * The policy's training responses (each later cut after its steps and answered) and the gate's
 * questions: the data set's gold responses, and IPR's winners judged correct beside them.
 */
export async function hsrEeExamples(
  opts: Pick<HsrEeOptions, "data" | "pairs">,
): Promise<{ examples: Example[]; questions: GradedQuestion[] }> {
  const trainFile = join(opts.data, "train.jsonl");
  if (!(await exists(trainFile)))
    throw new Error(`${trainFile}: not found (--data must be a dataset folder with train.jsonl)`);
  const ds = await readDataset(trainFile, { checkImages: false });
  if (ds.records.length === 0) throw new Error(`${trainFile}: no samples`);
  const questions = ds.records.map((r) => ({
    id: r.sample.id,
    image: r.imagePath,
    question: r.sample.question,
    answer: r.sample.answer,
    family: r.sample.family ?? undefined,
  }));
  // The gold responses always, IPR's winners beside them: trained on a handful of winners alone, the
  // policy learnt their answers (a default pipeline's 12 pairs, 4 of them "no", made it answer "no"
  // to every POPE question).
  const examples: Example[] = ds.records.map((r) => ({
    question: r.sample.question,
    image: r.imagePath,
    response: goldResponse(r.sample),
    answer: r.sample.answer,
  }));
  if (!opts.pairs) return { examples, questions };
  const byId = new Map(ds.records.map((r) => [r.sample.id, r]));
  let winners = 0;
  for (const { pair, file, line } of await readPreferencePairs(opts.pairs)) {
    if ((pair.meta as { chosen_correct?: boolean } | undefined)?.chosen_correct === false) continue;
    const r = byId.get(pair.sample_id);
    if (!r) throw new Error(`${file}:${line}: sample_id "${pair.sample_id}" is not in ${trainFile}`);
    examples.push({
      question: r.sample.question,
      image: r.imagePath,
      response: pair.chosen,
      answer: r.sample.answer,
    });
    winners++;
  }
  if (winners === 0) throw new Error(`${opts.pairs}: no winner judged correct`);
  return { examples, questions };
}

/** Returns the completion a batch slot trains on: the whole response, or one cut after a step and answered. */
function targetOf(ex: Example, rng: Rng, wholeShare: number): string {
  if (rng.next() < wholeShare) return ex.response;
  const cuts = truncatedResponses(ex.response, ex.answer);
  return cuts[Math.floor(rng.next() * cuts.length)];
}

/** Fine-tunes the policy on truncated and whole responses, then trains the gate and calibrates τ; resumable. */
export async function trainHsrEe(opts: HsrEeOptions): Promise<HsrEeResult> {
  const started = Date.now();
  const cfg: HsrEeTrainingConfig = { ...DEFAULT_HSR_EE, ...opts.config };
  const ckptDir = join(opts.out, "checkpoint");
  const gateDir = join(opts.out, "gate");
  await mkdir(join(opts.out, "logs"), { recursive: true });
  const { examples, questions } = await hsrEeExamples(opts);

  let vlm: VLM;
  let startStep = 0;
  let resumed: Awaited<ReturnType<typeof readCheckpoint>> | null = null;
  if (opts.resume && (await exists(join(ckptDir, "trainer_state.json")))) {
    resumed = await readCheckpoint(ckptDir, { trainingState: true });
    vlm = VLM.fromFiles(resumed, ckptDir);
    const state = resumed.trainerState as { step: number; stage?: string; training: HsrEeTrainingConfig };
    if (state.stage !== "hsr-ee")
      throw new Error(
        `${ckptDir}: holds the training state of another stage (${state.stage ?? "sft"}); give a fresh --out`,
      );
    startStep = state.step;
    Object.assign(cfg, state.training, opts.config?.steps !== undefined ? { steps: opts.config.steps } : {});
  } else {
    if (!opts.resume && (await exists(join(ckptDir, "config.json"))))
      throw new Error(`${ckptDir}: exists; pass --resume to continue, or give a fresh --out`);
    vlm = await VLM.load(opts.ckpt);
  }

  const log = await MetricsLog.open<{ step: number; [k: string]: number }>(
    join(opts.out, "logs", "hsr-ee.jsonl"),
    resumed ? { resumeFrom: startStep } : {},
  );
  const schedule = optim.warmupCosine(cfg.warmup_steps, cfg.steps, cfg.min_lr / cfg.lr);
  const { optimizer, scheduler } = trainingOptimizer(
    vlm,
    {
      lr: cfg.lr,
      weightDecay: cfg.weight_decay,
      lrScale: (name) => (name.startsWith("vision_tower.") ? 0 : 1),
    },
    schedule,
    resumed ? { checkpoint: resumed, dir: ckptDir, step: startStep } : undefined,
  );
  const trainable = vlm.parameters().filter((p) => p.requiresGrad);
  const pixelCache = new Map<string, Promise<Float32Array>>();
  const pixelsOf = (image: string) => {
    let p = pixelCache.get(image);
    if (!p) {
      p = vlm.pixelsOf(image);
      pixelCache.set(image, p);
    }
    return p;
  };
  const save = async (step: number) =>
    vlm.save(ckptDir, {
      trainerState: {
        step,
        stage: "hsr-ee",
        training: cfg,
        data: opts.data,
        pairs: opts.pairs ?? null,
        from: opts.ckpt,
      },
      optimizer: await optimizerStateFiles(optimizer),
    });

  const endStep = Math.min(cfg.steps, startStep + (opts.stopAfter ?? Number.POSITIVE_INFINITY));
  const progress =
    opts.progress === false ? null : createProgress({ label: "hsr-ee", total: cfg.steps, unit: "steps" });
  progress?.update(startStep);
  let lastLoss = Number.NaN;
  const loopStart = Date.now();
  for (let step = startStep; step < endStep; step++) {
    // the batch of a step depends on the seed and the step alone, so a resumed run trains on the same ones
    const rng = new Rng(`hsr-ee:${cfg.seed}:${step}`);
    const picks = Array.from(
      { length: cfg.batch_size },
      () => examples[Math.floor(rng.next() * examples.length)],
    );
    const seqs = await Promise.all(
      picks.map(async (ex) => ({
        ...vlm.encodeCompletion(
          [{ role: "user", content: ex.question }],
          targetOf(ex, rng, cfg.whole_share),
          true,
        ),
        pixels: await pixelsOf(ex.image),
      })),
    );
    lastLoss = await backwardLoss(vlm, seqs);
    if (!Number.isFinite(lastLoss))
      throw new Error(`hsr-ee: the loss is ${lastLoss} at step ${step + 1}; lower the lr`);
    const gradNorm = await clipGradients(trainable, cfg.grad_clip);
    const lr = cfg.lr * schedule(step);
    optimizer.step();
    scheduler.step();
    optimizer.zeroGrad();
    const done = step + 1;
    await log.append({
      step: done,
      loss: lastLoss,
      lr,
      grad_norm: gradNorm,
      elapsed_s: Math.round((Date.now() - loopStart) / 100) / 10,
    });
    progress?.tick(1, { loss: lastLoss });
    if (done === cfg.steps || (cfg.save_every > 0 && done % cfg.save_every === 0) || done === endStep)
      await save(done);
  }
  progress?.stop();
  if (startStep === 0 && endStep === 0) await save(0);
  const result: HsrEeResult = {
    checkpoint: ckptDir,
    gate: gateDir,
    steps: endStep,
    lastLoss,
    seconds: 0,
  };
  if (endStep < cfg.steps) return { ...result, seconds: (Date.now() - started) / 1000 };
  if (await exists(join(gateDir, "config.json")))
    return { ...result, seconds: (Date.now() - started) / 1000 };

  // the gate: trial answers of the trained policy on training questions, graded; the policy stays frozen
  const rng = new Rng(`hsr-ee-gate:${cfg.seed}`);
  const gateQuestions = rng.shuffle(questions.slice()).slice(0, cfg.gate_questions);
  // the trial answers of the frozen policy to graded questions, with a progress bar named `label`
  const trials = async (graded: GradedQuestion[], label: string) => {
    const bar =
      opts.progress === false ? null : createProgress({ label, total: graded.length, unit: "questions" });
    const out = await labelledTrajectories(vlm, graded, {
      maxTokens: cfg.max_tokens,
      onProgress: (n) => bar?.update(n),
    });
    bar?.stop();
    return out;
  };
  const train = await trials(gateQuestions, "gate trials");
  const { gate, loss: gateLoss } = await trainGate(
    train.flatMap((t) => t.steps),
    train.flatMap((t) => t.correct),
    { steps: cfg.gate_steps, mlpHidden: cfg.gate_mlp_hidden, seed: cfg.seed, tau: 0.8 },
  );
  // τ auto: calibrated on the validation split, which neither the policy nor the gate trained on
  let tauAuto: ThresholdChoice | undefined;
  const valFile = join(opts.data, "val.jsonl");
  if (await exists(valFile)) {
    const val = await readDataset(valFile, { checkImages: false });
    const valQuestions = val.records.slice(0, cfg.calibration_questions).map((r) => ({
      id: r.sample.id,
      image: r.imagePath,
      question: r.sample.question,
      answer: r.sample.answer,
    }));
    const cal = await trials(valQuestions, "τ calibration");
    const conf = await gate.confidences(cal.flatMap((t) => t.steps));
    let at = 0;
    const outcomes = cal.map((t) => {
      const c = conf.slice(at, at + t.steps.length);
      at += t.steps.length;
      return stepOutcomes(t, c);
    });
    tauAuto = chooseThreshold(outcomes, { delta: cfg.tau_delta, seed: cfg.seed });
  }
  Object.assign(gate.config, {
    ...(tauAuto
      ? {
          tau_auto: tauAuto.tau,
          tau_auto_method: {
            method:
              "smallest τ whose paired-bootstrap lower bound (one-sided 95%, 1000 resamples) of accuracy − always-deep accuracy is ≥ −δ, for it and every larger grid τ",
            split: valFile,
            ...tauAuto,
          },
        }
      : {}),
    meta: {
      policy: ckptDir,
      gate_questions: gateQuestions.length,
      trials: train.reduce((a, t) => a + t.steps.length, 0),
      gate_loss: gateLoss,
    },
  });
  await gate.save(gateDir);
  return { ...result, gateLoss, tauAuto, seconds: (Date.now() - started) / 1000 };
}
