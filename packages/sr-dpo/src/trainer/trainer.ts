import path from "node:path";
import {
  MetricsLog,
  type MetricsRow,
  type PairRecord,
  type PreferencePair,
  readPreferencePairs,
  recoverDirAtomic,
  writeDirAtomic,
} from "@sr2se/core";
import { noGrad, optim, type Tensor, tidy } from "@sr2se/tensor";
import type { DpoLossOptions, DpoMetrics } from "../objective/dpo-loss.js";
import { RunningMean } from "../objective/running-mean.js";
import { dpoLossTensor } from "../tensor/dpo-loss-tensor.js";
import { microBatch } from "./batch-order.js";
import {
  joinOptimizerState,
  readJson,
  readTensors,
  splitOptimizerState,
  writeTensors,
} from "./checkpoint.js";

/** One completion to score: a side of a preference pair. */
export interface CompletionRequest {
  prompt: string;
  completion: string;
  image?: string;
  pair: PreferencePair;
  side: "chosen" | "rejected";
}

/** Returns the requests that score a batch of pairs: every chosen completion, then every rejected one. */
export function completionRequests(pairs: readonly PreferencePair[]): CompletionRequest[] {
  const request = (pair: PreferencePair, side: "chosen" | "rejected"): CompletionRequest => ({
    prompt: pair.prompt,
    completion: pair[side],
    image: pair.image,
    pair,
    side,
  });
  return [...pairs.map((pair) => request(pair, "chosen")), ...pairs.map((pair) => request(pair, "rejected"))];
}

/** What a policy or reference returns for a list of completions: tensors [n]. */
export interface ScoredCompletions {
  /** Log-probs summed over each completion's tokens (prompt masked). */
  sum: Tensor;
  /** Completion token counts. */
  tokens: Tensor | ArrayLike<number>;
  /** Per-token mean log-probs, when the scorer computes them (disposed with the rest). */
  mean?: Tensor;
}

/**
 * Anything that scores completions: a model, a frozen reference. A scorer may be async (decode
 * images first); the tensors must be computed synchronously after its last await, so that a
 * frozen reference (parameters without `requiresGrad`) records no graph.
 */
export interface SequenceScorer {
  /** Returns the summed log-probs and token counts of the completions. */
  sequenceLogProbs(requests: CompletionRequest[]): ScoredCompletions | Promise<ScoredCompletions>;
}

/**
 * Returns a scorer's scores with no graph recorded: a synchronous scorer runs under noGrad; an async
 * one (which decodes images before it computes) runs as it is, so its model must be frozen
 * (`requiresGrad_(false)`), as a reference model is.
 */
export async function scoreWithoutGrad(
  scorer: SequenceScorer,
  requests: CompletionRequest[],
): Promise<ScoredCompletions> {
  let pending: Promise<ScoredCompletions> | null = null;
  const scored = noGrad(() => {
    const out = scorer.sequenceLogProbs(requests);
    if (out instanceof Promise) {
      pending = out;
      return null;
    }
    return out;
  });
  return scored ?? (await (pending as unknown as Promise<ScoredCompletions>));
}

/** Returns a scorer's token counts as numbers. */
export async function tokenCounts(scored: ScoredCompletions): Promise<Float64Array> {
  const t = scored.tokens;
  return Float64Array.from(
    (typeof (t as Tensor).data === "function" ? await (t as Tensor).data() : t) as ArrayLike<number>,
  );
}

/** Disposes every tensor a scorer returned. */
export function disposeScored(scored: ScoredCompletions): void {
  scored.sum.dispose();
  scored.mean?.dispose();
  if (typeof (scored.tokens as Tensor).dispose === "function") (scored.tokens as Tensor).dispose();
}

/** A policy the trainer can update. */
export interface TrainablePolicy extends SequenceScorer {
  parameters(): Tensor[];
  /** Needed for checkpoints: the parameters by name, and loading them back (an `nn.Module` has both). */
  stateDict?(): Record<string, Tensor>;
  loadStateDict?(state: Record<string, Tensor>): unknown;
  /** Written as config.json in checkpoints when present. */
  config?: unknown;
}

/** What to do when the policy's chosen log-probs fall below the reference's. */
export interface LikelihoodGuard {
  /** Trigger when mean (log π(y_w|x) − log π_ref(y_w|x)) per chosen token < −maxDropPerToken. */
  maxDropPerToken: number;
  /** "warn" calls `onWarn` (stderr by default) and goes on; "stop" ends `train` after the step. */
  action: "warn" | "stop";
  onWarn?: (message: string) => void;
}

/** Options of `SrDpoTrainer`. */
export interface SrDpoTrainerOptions {
  policy: TrainablePolicy;
  /**
   * The frozen reference: a model scored without recording a graph (see `scoreWithoutGrad`), never updated. Without one, each pair must
   * carry `meta.ref_chosen_logps` and `meta.ref_rejected_logps` (see `precomputeReferenceLogProbs`),
   * unless `loss.referenceFree`. Stored reference log-probs take precedence over the model.
   */
  reference?: SequenceScorer;
  optimizer: optim.Optimizer;
  /** Stepped once per optimizer step. */
  scheduler?: optim.LambdaLR;
  /** A JSONL file of preference pairs (`PreferencePairSchema` of @sr2se/core) or the pairs themselves. */
  pairs: string | PreferencePair[];
  /** The objective: beta, lossType, lossWeights, labelSmoothing, referenceFree, alpha… */
  loss?: DpoLossOptions;
  /** Pairs per micro-batch (default 8). */
  batchSize?: number;
  /** Micro-batches per optimizer step (default 1). */
  gradientAccumulationSteps?: number;
  /** Global-norm gradient clipping (default 1.0, TRL's max_grad_norm); 0 turns it off. */
  maxGradNorm?: number;
  /** Seed of the batch order (default 0); each epoch is a fresh seeded shuffle. */
  seed?: number;
  shuffle?: boolean;
  /** Where to append a metrics row per step (JSONL). */
  metricsFile?: string;
  /** Pair weight of SR-DPO (default `meta.weight`, else 1). */
  pairWeight?: (pair: PreferencePair) => number;
  likelihoodGuard?: LikelihoodGuard;
}

interface TrainerState {
  format: "sr2se-sr-dpo-trainer";
  step: number;
  microStep: number;
  bco: { mean: number; count: number };
  optimizer: ReturnType<typeof splitOptimizerState>["json"];
  scheduler: { lastStep: number; baseLrs: number[] } | null;
  guardTriggered: number;
  options: Record<string, unknown>;
}

const TRL_METRICS = [
  "loss",
  "rewards/chosen",
  "rewards/rejected",
  "rewards/accuracies",
  "rewards/margins",
  "logps/chosen",
  "logps/rejected",
  "nll_loss",
] as const;

/**
 * SR-DPO training: a policy against a frozen reference on a file of preference pairs, with gradient
 * accumulation, global-norm clipping, a metrics row per step, checkpoints that resume exactly, and a
 * guard on the chosen likelihood falling below the reference.
 */
export class SrDpoTrainer {
  /** Optimizer steps taken. */
  step = 0;
  /** Micro-batches consumed (fixes the position in the seeded batch order). */
  microStep = 0;
  /** Steps on which the likelihood guard fired. */
  guardTriggered = 0;
  private records: PairRecord[] | null = null;
  private log: MetricsLog | null = null;
  private readonly bco = new RunningMean();
  private readonly options: Required<
    Pick<SrDpoTrainerOptions, "batchSize" | "gradientAccumulationSteps" | "maxGradNorm" | "seed" | "shuffle">
  > &
    SrDpoTrainerOptions;

  constructor(options: SrDpoTrainerOptions) {
    const o = {
      batchSize: 8,
      gradientAccumulationSteps: 1,
      maxGradNorm: 1,
      seed: 0,
      shuffle: true,
      ...options,
    };
    for (const key of ["batchSize", "gradientAccumulationSteps"] as const) {
      if (!Number.isInteger(o[key]) || o[key] < 1) {
        throw new RangeError(`SrDpoTrainer: options.${key} is ${o[key]}; it must be an integer >= 1`);
      }
    }
    if (!(o.maxGradNorm >= 0))
      throw new RangeError(`SrDpoTrainer: options.maxGradNorm is ${o.maxGradNorm}; it must be >= 0`);
    if (o.likelihoodGuard && !(o.likelihoodGuard.maxDropPerToken >= 0)) {
      throw new RangeError(
        `SrDpoTrainer: options.likelihoodGuard.maxDropPerToken is ${o.likelihoodGuard.maxDropPerToken}; it must be >= 0`,
      );
    }
    this.options = o;
  }

  private async pairRecords(): Promise<PairRecord[]> {
    if (!this.records) {
      const { pairs } = this.options;
      this.records =
        typeof pairs === "string"
          ? await readPreferencePairs(pairs)
          : pairs.map((pair, i) => ({ pair, file: "pairs", line: i + 1 }));
      if (this.records.length === 0) throw new Error("SrDpoTrainer: no preference pairs to train on");
    }
    return this.records;
  }

  /** Returns the reference log-probs of the pairs (stored ones first, else the reference model). */
  private async referenceLogProbs(
    batch: PairRecord[],
    requests: CompletionRequest[],
  ): Promise<{ chosen: Float64Array; rejected: Float64Array } | undefined> {
    const n = batch.length;
    const stored = batch.every(
      ({ pair }) =>
        typeof pair.meta?.ref_chosen_logps === "number" && typeof pair.meta?.ref_rejected_logps === "number",
    );
    if (stored) {
      return {
        chosen: Float64Array.from(batch, ({ pair }) => pair.meta?.ref_chosen_logps as number),
        rejected: Float64Array.from(batch, ({ pair }) => pair.meta?.ref_rejected_logps as number),
      };
    }
    if (this.options.reference) {
      const ref = this.options.reference;
      const scored = await scoreWithoutGrad(ref, requests);
      const sums = Float64Array.from((await scored.sum.data()) as ArrayLike<number>);
      disposeScored(scored);
      if (sums.length !== 2 * n) {
        throw new Error(
          `SrDpoTrainer: the reference scored ${sums.length} completions for ${2 * n} requests`,
        );
      }
      return { chosen: sums.slice(0, n), rejected: sums.slice(n) };
    }
    if (this.options.loss?.referenceFree) return undefined;
    const missing = batch.find(({ pair }) => typeof pair.meta?.ref_chosen_logps !== "number");
    const where = missing ?? batch[0];
    throw new Error(
      `${where.file}:${where.line}: pair "${where.pair.id}" has no meta.ref_chosen_logps / meta.ref_rejected_logps and the trainer has no reference model`,
    );
  }

  /** Runs one optimizer step (gradient accumulation included); returns its metrics row. */
  async trainStep(): Promise<MetricsRow> {
    const records = await this.pairRecords();
    const o = this.options;
    const { policy, optimizer } = o;
    const lossOptions: DpoLossOptions = { ...o.loss };
    const beta = lossOptions.beta ?? 0.1;
    const types = [lossOptions.lossType ?? "sigmoid"].flat();
    const averaged = lossOptions.averageLogProbs ?? types.includes("ipo");
    const started = performance.now();
    optimizer.zeroGrad();

    const sums: Record<string, number> = {};
    let pairsSeen = 0;
    let epoch = 0;
    let chosenShift = 0;
    let chosenShiftPerToken = 0;
    let refChosen = 0;
    let refRejected = 0;
    for (let m = 0; m < o.gradientAccumulationSteps; m++) {
      const mb = microBatch(records.length, o.batchSize, this.microStep, o.seed, o.shuffle);
      epoch = mb.epoch;
      const batch = mb.indices.map((i) => records[i]);
      const n = batch.length;
      const requests = completionRequests(batch.map(({ pair }) => pair));
      const ref = await this.referenceLogProbs(batch, requests);
      const scored = await policy.sequenceLogProbs(requests);
      if (scored.sum.ndim !== 1 || scored.sum.shape[0] !== 2 * n) {
        throw new Error(
          `SrDpoTrainer: policy.sequenceLogProbs returned sum [${scored.sum.shape.join(", ")}] for ${2 * n} requests`,
        );
      }
      const tokens = await tokenCounts(scored);
      const chosenLengths = tokens.slice(0, n);
      const rejectedLengths = tokens.slice(n);
      for (let i = 0; i < 2 * n; i++) {
        if (!(tokens[i] > 0)) {
          const { file, line, pair } = batch[i % n];
          throw new Error(
            `${file}:${line}: pair "${pair.id}": the ${i < n ? "chosen" : "rejected"} completion has no tokens`,
          );
        }
      }
      const policyChosen = scored.sum.narrow(0, 0, n);
      const policyRejected = scored.sum.narrow(0, n, n);
      const weights = Float64Array.from(batch, ({ pair }) =>
        o.pairWeight ? o.pairWeight(pair) : typeof pair.meta?.weight === "number" ? pair.meta.weight : 1,
      );
      const pc = Float64Array.from((await policyChosen.data()) as ArrayLike<number>);
      const pr = Float64Array.from((await policyRejected.data()) as ArrayLike<number>);
      const rc = ref?.chosen ?? new Float64Array(n);
      const rr = ref?.rejected ?? new Float64Array(n);
      if (types.includes("bco_pair") && lossOptions.bcoDelta === undefined) {
        // TRL's bco_pair: fold this batch's mean reward into the running mean first, then subtract it.
        let s = 0;
        for (let i = 0; i < n; i++) {
          const sc = averaged ? 1 / chosenLengths[i] : 1;
          const sr = averaged ? 1 / rejectedLengths[i] : 1;
          s +=
            (pc[i] - (lossOptions.referenceFree ? 0 : rc[i])) * sc +
            (pr[i] - (lossOptions.referenceFree ? 0 : rr[i])) * sr;
        }
        this.bco.update((beta * s) / (2 * n));
      }
      const { loss, result } = await dpoLossTensor(
        {
          policyChosen,
          policyRejected,
          referenceChosen: ref?.chosen,
          referenceRejected: ref?.rejected,
          chosenLengths,
          rejectedLengths,
          weights,
        },
        types.includes("bco_pair") && lossOptions.bcoDelta === undefined
          ? { ...lossOptions, bcoDelta: this.bco.mean }
          : lossOptions,
      );
      const scaled = loss.mul(1 / o.gradientAccumulationSteps);
      scaled.backward();
      for (const t of [scaled, loss, policyChosen, policyRejected]) t.dispose();
      disposeScored(scored);

      const metrics = result.metrics as DpoMetrics & Record<string, number | undefined>;
      for (const k of TRL_METRICS) {
        const v = metrics[k];
        if (v !== undefined) sums[k] = (sums[k] ?? 0) + v * n;
      }
      for (let i = 0; i < n; i++) {
        chosenShift += pc[i] - rc[i];
        chosenShiftPerToken += (pc[i] - rc[i]) / chosenLengths[i];
        refChosen += rc[i];
        refRejected += rr[i];
      }
      pairsSeen += n;
      this.microStep++;
    }

    let gradNorm: number | null = null;
    if (o.maxGradNorm > 0) {
      const norm = optim.clipGradNorm(policy.parameters(), o.maxGradNorm);
      gradNorm = await norm.item();
      norm.dispose();
    }
    const lr = optimizer.paramGroups[0]?.lr ?? null;
    optimizer.step();
    o.scheduler?.step();
    optimizer.zeroGrad();
    this.step++;

    const row: MetricsRow = { step: this.step, epoch };
    for (const k of TRL_METRICS) if (sums[k] !== undefined) row[k] = sums[k] / pairsSeen;
    if (hasReference(o)) {
      row["logps/ref_chosen"] = refChosen / pairsSeen;
      row["logps/ref_rejected"] = refRejected / pairsSeen;
      row["logratios/chosen"] = chosenShift / pairsSeen;
      row["logratios/chosen_per_token"] = chosenShiftPerToken / pairsSeen;
    }
    row.grad_norm = gradNorm;
    row.learning_rate = lr;
    row.pairs = pairsSeen;
    row.seconds = (performance.now() - started) / 1000;

    const guard = o.likelihoodGuard;
    if (guard && hasReference(o) && (row["logratios/chosen_per_token"] as number) < -guard.maxDropPerToken) {
      this.guardTriggered++;
      row["guard/chosen_below_reference"] = true;
      const message =
        `sr-dpo: step ${this.step}: logps/chosen is ${(-(row["logratios/chosen_per_token"] as number)).toFixed(3)} nats per token below ` +
        `the reference (limit ${guard.maxDropPerToken}); the chosen likelihood is falling (likelihood displacement): ` +
        "raise alpha (the NLL term), lower the learning rate or beta";
      (guard.onWarn ?? ((msg: string) => process.stderr.write(`${msg}\n`)))(message);
    }
    if (o.metricsFile) {
      this.log ??= await MetricsLog.open(o.metricsFile, {
        resumeFrom: this.step > 1 ? this.step - 1 : undefined,
      });
      await this.log.append(row);
    }
    return row;
  }

  /**
   * Runs `steps` optimizer steps (fewer if the likelihood guard says stop), saving a checkpoint to
   * `saveDir` every `saveEvery` steps and at the end when `saveDir` is given. Returns the last row.
   */
  async train(
    steps: number,
    opts: { saveDir?: string; saveEvery?: number; onStep?: (row: MetricsRow) => void } = {},
  ): Promise<{ steps: number; stopped: string | null; last: MetricsRow | null }> {
    let last: MetricsRow | null = null;
    let stopped: string | null = null;
    for (let i = 0; i < steps; i++) {
      last = await this.trainStep();
      opts.onStep?.(last);
      if (opts.saveDir && opts.saveEvery && this.step % opts.saveEvery === 0) await this.save(opts.saveDir);
      if (last["guard/chosen_below_reference"] && this.options.likelihoodGuard?.action === "stop") {
        stopped = `step ${this.step}: the chosen log-probs fell more than ${this.options.likelihoodGuard.maxDropPerToken} nats per token below the reference`;
        break;
      }
    }
    if (opts.saveDir) await this.save(opts.saveDir);
    return { steps: this.step, stopped, last };
  }

  /** Writes a checkpoint folder (model.safetensors, optimizer.safetensors, trainer_state.json, config.json) atomically. */
  async save(dir: string): Promise<void> {
    const { policy, optimizer, scheduler } = this.options;
    if (!policy.stateDict)
      throw new Error("SrDpoTrainer.save: the policy has no stateDict() (an nn.Module has one)");
    const sd = optimizer.stateDict();
    const { tensors, json } = splitOptimizerState(sd);
    const state: TrainerState = {
      format: "sr2se-sr-dpo-trainer",
      step: this.step,
      microStep: this.microStep,
      bco: this.bco.state(),
      optimizer: json,
      scheduler: scheduler ? scheduler.stateDict() : null,
      guardTriggered: this.guardTriggered,
      options: {
        loss: this.options.loss ?? {},
        batchSize: this.options.batchSize,
        gradientAccumulationSteps: this.options.gradientAccumulationSteps,
        maxGradNorm: this.options.maxGradNorm,
        seed: this.options.seed,
        shuffle: this.options.shuffle,
      },
    };
    try {
      await writeDirAtomic(dir, async (tmp) => {
        await writeTensors(tmp, "model.safetensors", policy.stateDict?.() ?? {});
        await writeTensors(tmp, "optimizer.safetensors", tensors);
        await import("node:fs/promises").then((fs) =>
          Promise.all([
            fs.writeFile(path.join(tmp, "trainer_state.json"), `${JSON.stringify(state, null, 1)}\n`),
            policy.config === undefined
              ? Promise.resolve()
              : fs.writeFile(path.join(tmp, "config.json"), `${JSON.stringify(policy.config, null, 1)}\n`),
          ]),
        );
      });
    } finally {
      for (const t of Object.values(tensors)) t.dispose();
    }
  }

  /** Loads a checkpoint written by `save` into the policy, optimizer, scheduler and this trainer, to resume exactly. */
  async resume(dir: string): Promise<void> {
    const { policy, optimizer, scheduler } = this.options;
    if (!policy.loadStateDict)
      throw new Error("SrDpoTrainer.resume: the policy has no loadStateDict() (an nn.Module has one)");
    // A kill between the two renames of a save leaves the checkpoint beside `dir`: put it back first.
    await recoverDirAtomic(dir);
    const statePath = path.join(dir, "trainer_state.json");
    const state = await readJson<TrainerState>(statePath);
    if (state.format !== "sr2se-sr-dpo-trainer")
      throw new Error(`${statePath}: field "format" is not "sr2se-sr-dpo-trainer"`);
    for (const key of ["batchSize", "gradientAccumulationSteps", "seed", "shuffle"] as const) {
      if (state.options[key] !== this.options[key]) {
        throw new Error(
          `${statePath}: the checkpoint was trained with ${key} = ${String(state.options[key])}, this trainer has ${String(this.options[key])}; the batch order would not resume exactly`,
        );
      }
    }
    const device = policy.parameters()[0]?.backend.name;
    const model = await readTensors(dir, "model.safetensors", device);
    const optTensors = await readTensors(dir, "optimizer.safetensors", device);
    try {
      // tidy: loading makes temporary views (Optimizer.loadStateDict reshapes each state tensor).
      tidy(() => {
        policy.loadStateDict?.(model);
        optimizer.loadStateDict(joinOptimizerState(state.optimizer, optTensors, statePath));
      });
    } finally {
      for (const t of [...Object.values(model), ...Object.values(optTensors)]) t.dispose();
    }
    if (scheduler && state.scheduler) scheduler.loadStateDict(state.scheduler);
    this.step = state.step;
    this.microStep = state.microStep;
    this.bco.load(state.bco);
    this.guardTriggered = state.guardTriggered;
    if (this.options.metricsFile)
      this.log = await MetricsLog.open(this.options.metricsFile, { resumeFrom: this.step });
  }
}

/** Whether the run has a reference to compare the chosen log-probs with. */
function hasReference(o: SrDpoTrainerOptions): boolean {
  return !o.loss?.referenceFree;
}
