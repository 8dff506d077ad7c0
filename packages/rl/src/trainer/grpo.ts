// GRPO on a VLM, one step as verl's RayPPOTrainer.fit runs it with Vision-SR1's second pass: sample
// n responses a prompt, let the same policy answer from each description alone, score, take the old
// and reference log-probs, compute group advantages, and update the actor with verl's loss. A metrics
// row per step under verl's names (logs/grpo.jsonl), checkpoints with the full training state, and
// exact resume: the prompt order and every sampling seed are functions of the seed and the step.
import { join } from "node:path";
import { createProgress, exists, MetricsLog, type MetricsRow, Rng, recoverDirAtomic } from "@sr2se/core";
import { memory, noGrad } from "@sr2se/tensor";
import {
  clipGradients,
  optimizerStateFiles,
  readCheckpoint,
  type SequenceInput,
  trainingOptimizer,
  VLM,
} from "@sr2se/vlm";
import type { ActorMetrics } from "../objective/actor-loss.js";
import { grpoOutcomeAdvantage } from "../objective/grpo-advantage.js";
import {
  descriptionLeaksAnswer,
  type RewardKind,
  type RewardScore,
  scoreResponse,
} from "../rollout/reward.js";
import {
  descriptionAnswers,
  type RolloutPrompt,
  rolloutSequence,
  sampleRollouts,
} from "../rollout/rollout.js";
import { actorLossTensor, rowsOf } from "../tensor/actor-loss-tensor.js";
import { type GrpoConfig, resolveGrpoConfig } from "./config.js";
import { dataMetrics, meanOfKeys } from "./data-metrics.js";

/** A question to train or score on: its image (a path or encoded bytes), question and ground truth. */
export interface GrpoSample {
  id: string;
  image?: string | Uint8Array;
  question: string;
  answer: string;
}

/** Options of a GRPO run. */
export interface GrpoOptions {
  /** The starting checkpoint: the policy's first weights and the frozen reference. */
  ckpt: string;
  /** Training prompts. */
  train: GrpoSample[];
  /** Held-out prompts for `val/*` (the first `eval_prompts`). */
  val?: GrpoSample[];
  /** Output folder: checkpoint/ and logs/grpo.jsonl. */
  out: string;
  /**
   * Vision-SR1's self-reward (default), correctness and format only, or a function of the response
   * and the ground truth (verl's custom reward function; no description pass).
   */
  reward?: RewardKind | RewardFunction;
  config?: Partial<GrpoConfig>;
  device?: "cpu" | "webgpu";
  /**
   * Continue from out/checkpoint when it holds training state: the saved config wins (but `steps`),
   * and the saved reward unless `reward` names another, which is an error.
   */
  resume?: boolean;
  /** Progress on stderr (default true). */
  progress?: boolean;
  /** Stop after this many steps of this call (for tests and benches); the schedule still spans all steps. */
  stopAfter?: number;
  /** Called after each step's metrics row is written. */
  onStep?: (row: MetricsRow) => void;
}

/** A custom reward: the scores of one response (`overall` is what GRPO trains on). */
export type RewardFunction = (input: { response: string; groundTruth: string }) => RewardScore;

/** What a finished run returns. */
export interface GrpoResult {
  checkpoint: string;
  steps: number;
  last: MetricsRow | null;
  seconds: number;
}

interface GrpoState {
  format: "sr2se-grpo";
  step: number;
  reward: RewardKind | "custom";
  config: GrpoConfig;
  /** Mean response length of the first step, the yardstick of `hacking/response_length_ratio`. */
  first_response_length: number | null;
}

/** Returns the sample indices of a step: consecutive positions in a stream of seeded epoch shuffles. */
export function stepPrompts(count: number, perStep: number, seed: number, step: number): number[] {
  const out: number[] = [];
  let epoch = -1;
  let order: number[] = [];
  for (let pos = step * perStep; pos < (step + 1) * perStep; pos++) {
    const e = Math.floor(pos / count);
    if (e !== epoch) {
      epoch = e;
      order = new Rng(`${seed}:grpo-epoch:${e}`).shuffle(Array.from({ length: count }, (_, i) => i));
    }
    out.push(order[pos % count]);
  }
  return out;
}

/** Returns the decoder seed of one pass of one step. */
function passSeed(seed: number, pass: string, step: number): number {
  return new Rng(`${seed}:grpo:${pass}:${step}`).nextU32();
}

/** Returns a [rows, T] matrix of per-row values, zero-padded. */
function padRows(rows: number[][], T: number): number[][] {
  return rows.map((r) => {
    const out = new Array<number>(T).fill(0);
    for (let t = 0; t < Math.min(T, r.length); t++) out[t] = r[t];
    return out;
  });
}

/** Returns the log-probs of each sequence's response tokens under `model`, without a graph, `size` sequences a pass. */
async function logProbsOf(
  model: VLM,
  seqs: SequenceInput[],
  size: number,
  lengths: number[],
): Promise<number[][]> {
  const out: number[][] = [];
  for (let s = 0; s < seqs.length; s += size) {
    const { logProbs } = noGrad(() => model.tokenLogProbsOf(seqs.slice(s, s + size)));
    const rows = await rowsOf(logProbs);
    logProbs.dispose();
    rows.forEach((r, i) => {
      out.push(r.slice(0, lengths[s + i]));
    });
  }
  return out;
}

/** Scores responses and, for the self-reward, runs the text-only pass first. */
async function score(
  policy: VLM,
  prompts: RolloutPrompt[],
  rollouts: Awaited<ReturnType<typeof sampleRollouts>>,
  reward: RewardKind | RewardFunction,
  c: GrpoConfig,
  sampling: { temperature: number; topP: number; seed: number },
  timing?: Record<string, number>,
): Promise<RewardScore[]> {
  let answers: string[] | undefined;
  if (reward === "vision-sr1") {
    const t0 = performance.now();
    answers = await descriptionAnswers(policy, prompts, rollouts, {
      ...sampling,
      maxTokens: c.description_max_tokens,
      batchSize: c.gen_batch_size,
    });
    if (timing) timing["timing_s/description"] = (performance.now() - t0) / 1000;
  }
  const t1 = performance.now();
  const scores = rollouts.map((r, i) => {
    const input = { response: r.text, groundTruth: prompts[r.prompt].answer };
    return typeof reward === "function"
      ? reward(input)
      : scoreResponse(reward, { ...input, descriptionAnswer: answers?.[i] }, c.format_weight);
  });
  if (timing) timing["timing_s/reward"] = (performance.now() - t1) / 1000;
  return scores;
}

/**
 * Trains a VLM with GRPO from `ckpt` against itself frozen as the reference; resolves when the last
 * step's checkpoint is written.
 */
export async function trainGrpo(opts: GrpoOptions): Promise<GrpoResult> {
  const started = Date.now();
  if (opts.train.length === 0) throw new Error("grpo: no training prompts");
  const ckptDir = join(opts.out, "checkpoint");
  const logFile = join(opts.out, "logs", "grpo.jsonl");
  let c = resolveGrpoConfig(opts.config);
  let reward = opts.reward ?? "vision-sr1";
  let rewardName: RewardKind | "custom" = typeof reward === "function" ? "custom" : reward;

  // the reference: the starting checkpoint, frozen (its forward records no graph)
  const reference = (await VLM.load(opts.ckpt, { device: opts.device })).requiresGrad_(false).eval();
  let policy: VLM;
  let startStep = 0;
  let firstLength: number | null = null;
  let resumed: Awaited<ReturnType<typeof readCheckpoint>> | null = null;
  // a kill between the two renames of a save leaves the checkpoint beside its folder: put it back
  if (opts.resume) await recoverDirAtomic(ckptDir);
  if (opts.resume && (await exists(join(ckptDir, "trainer_state.json")))) {
    resumed = await readCheckpoint(ckptDir, { trainingState: true });
    const state = resumed.trainerState as unknown as GrpoState;
    if (state.format !== "sr2se-grpo")
      throw new Error(
        `${join(ckptDir, "trainer_state.json")}: not a GRPO checkpoint (format "${String(state.format)}")`,
      );
    policy = VLM.fromFiles(resumed, ckptDir);
    startStep = state.step;
    firstLength = state.first_response_length;
    c = resolveGrpoConfig({
      ...state.config,
      ...(opts.config?.steps !== undefined ? { steps: opts.config.steps } : {}),
    });
    // a resume that names no reward continues with the saved one
    if (opts.reward === undefined && state.reward !== "custom") {
      reward = state.reward;
      rewardName = state.reward;
    }
    if (state.reward !== rewardName)
      throw new Error(
        `${join(ckptDir, "trainer_state.json")}: the run was trained with the ${state.reward} reward, this one asks for ${rewardName}`,
      );
  } else {
    policy = await VLM.load(opts.ckpt, { device: opts.device });
  }
  const last: { row: MetricsRow | null } = { row: null };
  if (startStep >= c.steps) {
    policy.dispose();
    reference.dispose();
    return { checkpoint: ckptDir, steps: startStep, last: null, seconds: 0 };
  }

  const warmup = c.warmup_steps;
  const { optimizer, scheduler } = trainingOptimizer(
    policy,
    {
      lr: c.lr,
      weightDecay: c.weight_decay,
      betas: [0.9, 0.999],
      lrScale: (name) => (name.startsWith("vision_tower.") ? c.vision_lr_scale : 1),
    },
    (step) => (warmup > 0 && step < warmup ? (step + 1) / warmup : 1),
    resumed ? { checkpoint: resumed, dir: ckptDir, step: startStep } : undefined,
  );
  const trainable = policy.parameters().filter((p) => p.requiresGrad);
  const backend = policy.parameters()[0].backend;
  // rows logged after the checkpoint belong to steps that run again
  const log = await MetricsLog.open(logFile, resumed ? { resumeFrom: startStep } : {});

  const valPixels = new Map<number, Promise<Float32Array | undefined>>();
  const promptOf = async (
    s: GrpoSample,
    cache?: { map: typeof valPixels; key: number },
  ): Promise<RolloutPrompt> => {
    const load = () => (s.image === undefined ? Promise.resolve(undefined) : policy.pixelsOf(s.image));
    let pixels: Promise<Float32Array | undefined>;
    if (cache) {
      pixels = cache.map.get(cache.key) ?? load();
      cache.map.set(cache.key, pixels);
    } else pixels = load();
    return { id: s.id, question: s.question, answer: s.answer, pixels: await pixels };
  };
  const valSet = (opts.val ?? []).slice(0, c.eval_prompts);

  /** Returns `val/*`: greedy, one response a prompt (Vision-SR1's val_override_config). */
  const validate = async (): Promise<Record<string, number>> => {
    const prompts = await Promise.all(valSet.map((s, i) => promptOf(s, { map: valPixels, key: i })));
    const settings = {
      temperature: 0,
      topP: 1,
      seed: 0,
      maxTokens: c.max_response_tokens,
      batchSize: c.gen_batch_size,
    };
    const rollouts = await sampleRollouts(policy, prompts, { ...settings, n: 1 });
    const scores = await score(policy, prompts, rollouts, reward, c, settings);
    const row: Record<string, number> = {
      "val/reward_score": scores.reduce((a, s) => a + s.overall, 0) / scores.length,
      ...meanOfKeys(scores, "val/", "_reward"),
      "val/description_leak": rollouts.filter((r) => descriptionLeaksAnswer(r.text)).length / rollouts.length,
      "val/response_length": rollouts.reduce((a, r) => a + r.responseIds.length, 0) / rollouts.length,
    };
    return row;
  };

  const save = async (step: number) => {
    const state: GrpoState = {
      format: "sr2se-grpo",
      step,
      reward: rewardName,
      config: c,
      first_response_length: firstLength,
    };
    await policy.save(ckptDir, {
      trainerState: state as unknown as Record<string, unknown>,
      optimizer: await optimizerStateFiles(optimizer),
    });
  };

  const progress =
    opts.progress === false ? null : createProgress({ label: "grpo", total: c.steps, unit: "steps" });
  progress?.update(startStep);
  if (startStep === 0 && c.eval_every > 0 && valSet.length > 0) {
    const row: MetricsRow = { step: 0, ...(await validate()) };
    await log.append(row);
    opts.onStep?.(row);
  }

  const endStep = Math.min(c.steps, startStep + (opts.stopAfter ?? Number.POSITIVE_INFINITY));
  const rows = c.prompts_per_step * c.n;
  const miniSize = rows / c.mini_batches;
  const accumulation = Math.ceil(miniSize / c.micro_batch_size);
  for (let step = startStep; step < endStep; step++) {
    const timing: Record<string, number> = {};
    const t0 = performance.now();
    const samples = stepPrompts(opts.train.length, c.prompts_per_step, c.seed, step).map(
      (i) => opts.train[i],
    );
    const prompts = await Promise.all(samples.map((s) => promptOf(s)));

    // rollouts: n samples a prompt from the current policy
    const rollouts = await sampleRollouts(policy, prompts, {
      n: c.n,
      temperature: c.temperature,
      topP: c.top_p,
      maxTokens: c.max_response_tokens,
      batchSize: c.gen_batch_size,
      seed: passSeed(c.seed, "rollout", step),
    });
    timing["timing_s/gen"] = (performance.now() - t0) / 1000;
    const scores = await score(
      policy,
      prompts,
      rollouts,
      reward,
      c,
      { temperature: c.temperature, topP: c.top_p, seed: passSeed(c.seed, "description", step) },
      timing,
    );

    const lengths = rollouts.map((r) => r.responseIds.length);
    const seqs = rollouts.map((r) => rolloutSequence(r, prompts[r.prompt].pixels));
    const T = Math.max(...lengths);
    const mask = lengths.map((n) => Array.from({ length: T }, (_, t) => (t < n ? 1 : 0)));

    // reference log-probs (the KL loss), old log-probs for the mini-batches after the first
    let refLogProbs: number[][] | undefined;
    if (c.kl_coef > 0) {
      const t = performance.now();
      refLogProbs = await logProbsOf(reference, seqs, c.micro_batch_size, lengths);
      timing["timing_s/ref"] = (performance.now() - t) / 1000;
    }
    // The first mini-batch's old log-probs are its own forward's values (the weights have not moved
    // yet, the micro-batches are the same): verl recomputes the same numbers in a separate pass.
    let oldLogProbs: (number[] | undefined)[] = new Array(rows).fill(undefined);
    if (c.mini_batches > 1) {
      const t = performance.now();
      const later = await logProbsOf(
        policy,
        seqs.slice(miniSize),
        c.micro_batch_size,
        lengths.slice(miniSize),
      );
      oldLogProbs = [...new Array(miniSize).fill(undefined), ...later];
      timing["timing_s/old"] = (performance.now() - t) / 1000;
    }

    // GRPO advantages: the reward on each response's last token, normalized within its prompt's group
    const tAdv = performance.now();
    const tokenRewards = lengths.map((n, i) => {
      const row = new Array<number>(T).fill(0);
      row[n - 1] = scores[i].overall;
      return row;
    });
    const advantages = grpoOutcomeAdvantage(
      tokenRewards,
      mask,
      rollouts.map((r) => String(r.prompt)),
    );
    timing["timing_s/adv"] = (performance.now() - tAdv) / 1000;

    // the actor update: mini-batches in order, each one optimizer step over its micro-batches
    const tUpdate = performance.now();
    const actor: ActorMetrics[] = [];
    const gradNorms: number[] = [];
    let klLoss: number | undefined;
    const lr = optimizer.paramGroups[0]?.lr ?? c.lr;
    for (let m = 0; m < c.mini_batches; m++) {
      for (let s = m * miniSize; s < (m + 1) * miniSize; s += c.micro_batch_size) {
        const idx = Array.from(
          { length: Math.min(c.micro_batch_size, (m + 1) * miniSize - s) },
          (_, k) => s + k,
        );
        const { logProbs, tokens } = policy.tokenLogProbsOf(idx.map((i) => seqs[i]));
        const width = Math.max(...tokens);
        const current = await rowsOf(logProbs);
        const old = idx.map((i, k) => oldLogProbs[i] ?? current[k].slice(0, lengths[i]));
        const result = await actorLossTensor(
          logProbs,
          {
            oldLogProbs: padRows(old, width),
            advantages: padRows(
              idx.map((i) => advantages[i]),
              width,
            ),
            responseMask: padRows(
              idx.map((i) => mask[i]),
              width,
            ),
            ...(refLogProbs
              ? {
                  refLogProbs: padRows(
                    idx.map((i) => refLogProbs[i]),
                    width,
                  ),
                }
              : {}),
          },
          {
            klPenalty: c.kl_penalty,
            klCoef: c.kl_coef,
            gradientAccumulation: accumulation,
            clipRatioLow: c.clip_ratio_low,
            clipRatioHigh: c.clip_ratio_high,
            clipRatioDual: c.clip_ratio_dual,
          },
        );
        result.surrogate.backward();
        result.surrogate.dispose();
        logProbs.dispose();
        actor.push(result.metrics);
        // verl assigns actor/kl_loss instead of appending it: the last micro-batch's value is logged
        if (result.metrics["actor/kl_loss"] !== undefined) klLoss = result.metrics["actor/kl_loss"];
      }
      const norm = await clipGradients(trainable, c.max_grad_norm);
      gradNorms.push(norm);
      // verl skips the update when the gradient norm is not finite
      if (Number.isFinite(norm)) optimizer.step();
      optimizer.zeroGrad();
    }
    scheduler.step();
    timing["timing_s/update_actor"] = (performance.now() - tUpdate) / 1000;
    timing["timing_s/step"] = (performance.now() - t0) / 1000;

    const meanLength = lengths.reduce((a, b) => a + b, 0) / rows;
    firstLength ??= meanLength;
    // in model positions, as verl's attention mask counts them: the image placeholder is imageTokens positions
    const promptLengths = rollouts.map(
      (r) => r.promptIds.length + (prompts[r.prompt].pixels ? policy.imageTokens - 1 : 0),
    );
    const totalTokens = promptLengths.reduce((a, b) => a + b, 0) + lengths.reduce((a, b) => a + b, 0);
    const actorMeans = meanOfKeys(actor as unknown as Record<string, number>[], "");
    if (klLoss !== undefined) actorMeans["actor/kl_loss"] = klLoss;
    const live = memory();
    const row: MetricsRow = {
      step: step + 1,
      ...actorMeans,
      "actor/grad_norm": gradNorms.reduce((a, b) => a + b, 0) / gradNorms.length,
      "actor/lr": lr,
      ...meanOfKeys(scores, "reward/"),
      ...dataMetrics({
        scores: scores.map((s) => s.overall),
        advantages: advantages.map((a) => a[0]),
        responseLengths: lengths,
        promptLengths,
        maxResponseTokens: c.max_response_tokens,
      }),
      "hacking/description_leak": rollouts.filter((r) => descriptionLeaksAnswer(r.text)).length / rows,
      "hacking/response_length_ratio": meanLength / firstLength,
      ...timing,
      "perf/total_num_tokens": totalTokens,
      "perf/time_per_step": timing["timing_s/step"],
      "perf/throughput": totalTokens / timing["timing_s/step"],
      "perf/live_tensors": live.tensors,
      "perf/live_bytes": live.bytes,
      // the backend's reserved memory (the wasm heap's high-water mark) and the process's resident set
      "perf/backend_bytes_allocated": backend.memoryInfo().bytesAllocated,
      "perf/rss_bytes": process.memoryUsage().rss,
    };
    const done = step + 1;
    if (c.eval_every > 0 && valSet.length > 0 && (done % c.eval_every === 0 || done === c.steps))
      Object.assign(row, await validate());
    await log.append(row);
    last.row = row;
    opts.onStep?.(row);
    progress?.tick(1, {
      score: Number(row["critic/score/mean"]),
      acc: Number(row["reward/accuracy"]),
      len: Number(row["response_length/mean"]),
    });
    if (done === c.steps || (c.save_every > 0 && done % c.save_every === 0)) await save(done);
  }
  progress?.stop();
  if (endStep < c.steps && endStep > startStep && (c.save_every <= 0 || endStep % c.save_every !== 0))
    await save(endStep);
  // the run's tensors go with it: a caller that trains again starts from the same live count
  for (const st of optimizer.state.values())
    for (const v of Object.values(st)) if (typeof v !== "number") v.dispose();
  policy.dispose();
  reference.dispose();
  return { checkpoint: ckptDir, steps: endStep, last: last.row, seconds: (Date.now() - started) / 1000 };
}
