// The gate g_φ: a small head over a trial answer's features (the boundary hidden state, the answer's
// confidence features, the step index) that predicts whether the trial answer is right. It reads
// only what is known once the answer's first token is chosen, so early exit decides without
// decoding the answers it does not take. A linear
// probe (`mlp_hidden` 0) or one hidden layer; inputs are standardized with statistics of the training
// set, kept in config.json beside model.safetensors, so a gate folder is all a caller needs.
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { exists, writeDirAtomic } from "@sr2se/core";
import { io, nn, noGrad, type Tensor, tensor, tidy } from "@sr2se/tensor";
import { loadStateDict, stateDict } from "@sr2se/vlm";
import type { Gate, TrialStep } from "../trials/trials.js";

/** Scalar features after the hidden state, in this order. */
export const SCALAR_FEATURES = [
  "log_first_prob",
  "first_prob",
  "first_entropy",
  "step",
  "part_answer",
  "part_description",
  "part_think",
  "log_at",
] as const;

/** A gate folder's config.json. */
export interface GateConfig {
  /** Hidden size of the policy whose states the gate reads. */
  hidden_size: number;
  /** Width of the hidden layer; 0 for a linear probe. */
  mlp_hidden: number;
  feature_names: string[];
  /** Standardization of the features: (x − mean) / std. */
  feature_mean: number[];
  feature_std: number[];
  /** The default threshold, and the one `--tau auto` picked on held-out data (with how). */
  tau: number;
  tau_auto?: number;
  tau_auto_method?: Record<string, unknown>;
  /** Anything else worth keeping with the gate (training metrics, the policy it read). */
  meta?: Record<string, unknown>;
}

/** Returns the raw feature vector of a trial answer: its hidden state, then SCALAR_FEATURES. */
export function gateFeatures(step: TrialStep): Float32Array {
  const E = step.hidden.length;
  const f = new Float32Array(E + SCALAR_FEATURES.length);
  f.set(step.hidden);
  const scalars = [
    Math.max(Math.log(Math.max(step.firstProb, 1e-30)), -30),
    step.firstProb,
    step.firstEntropy,
    step.step,
    step.part === "answer" ? 1 : 0,
    step.part === "description" ? 1 : 0,
    step.part === "think" ? 1 : 0,
    Math.log1p(step.at),
  ];
  f.set(scalars, E);
  return f;
}

/** g_φ: standardized features → one hidden layer (or none) → the logit that the trial answer is right. */
export class GateHead extends nn.Module implements Gate {
  readonly name = "g_phi";
  readonly fc1: nn.Linear;
  readonly fc2: nn.Linear | null;
  constructor(
    readonly config: GateConfig,
    seed = 0,
  ) {
    super();
    const F = config.hidden_size + SCALAR_FEATURES.length;
    if (config.feature_mean.length !== F || config.feature_std.length !== F)
      throw new Error(
        `GateHead: ${F} features expected, the config standardizes ${config.feature_mean.length}`,
      );
    const H = config.mlp_hidden;
    this.fc1 = new nn.Linear(F, H > 0 ? H : 1, { seed });
    this.fc2 = H > 0 ? new nn.Linear(H, 1, { seed: seed + 1 }) : null;
  }

  /** Returns the standardized features [N, F] of trial answers. */
  inputs(steps: readonly TrialStep[]): Tensor {
    const F = this.config.feature_mean.length;
    const x = new Float32Array(steps.length * F);
    steps.forEach((s, i) => {
      const f = gateFeatures(s);
      if (f.length !== F)
        throw new Error(
          `GateHead: the gate reads hidden size ${this.config.hidden_size}, the step has ${s.hidden.length}`,
        );
      for (let j = 0; j < F; j++)
        x[i * F + j] = (f[j] - this.config.feature_mean[j]) / this.config.feature_std[j];
    });
    return tensor(x, { shape: [steps.length, F] });
  }

  /** Returns logits [N] of standardized features [N, F]. */
  forward(x: Tensor): Tensor {
    const h = this.fc1.forward(x);
    const out = this.fc2 ? this.fc2.forward(h.relu()) : h;
    return out.reshape([x.shape[0]]);
  }

  /** Returns σ(logit) for each trial answer: the probability that it is right. */
  async confidences(steps: readonly TrialStep[]): Promise<number[]> {
    if (steps.length === 0) return [];
    const p = noGrad(() => tidy(() => this.forward(this.inputs(steps)).sigmoid()));
    const out = Array.from((await p.data()) as Float32Array);
    p.dispose();
    return out;
  }

  /** Writes the gate folder (config.json, model.safetensors) atomically. */
  async save(dir: string): Promise<void> {
    const weights = io.encodeSafetensors(await stateDict(this));
    await writeDirAtomic(dir, async (tmp) => {
      await writeFile(join(tmp, "config.json"), `${JSON.stringify(this.config, null, 2)}\n`);
      await writeFile(join(tmp, "model.safetensors"), weights);
    });
  }

  /** Returns the gate stored in a folder; errors name the file. */
  static async load(dir: string): Promise<GateHead> {
    const configFile = join(dir, "config.json");
    if (!(await exists(configFile)))
      throw new Error(`${configFile}: not found (--gate must be a gate folder)`);
    let config: GateConfig;
    try {
      config = JSON.parse(await readFile(configFile, "utf8")) as GateConfig;
    } catch (err) {
      throw new Error(`${configFile}: not valid JSON: ${(err as Error).message}`);
    }
    if (!Number.isInteger(config.hidden_size) || !Array.isArray(config.feature_mean))
      throw new Error(`${configFile}: not a gate config (hidden_size, feature_mean missing)`);
    const head = new GateHead(config);
    const weightsFile = join(dir, "model.safetensors");
    const { tensors } = io.decodeSafetensors(new Uint8Array(await readFile(weightsFile)), weightsFile);
    loadStateDict(head, tensors, weightsFile);
    return head;
  }
}
