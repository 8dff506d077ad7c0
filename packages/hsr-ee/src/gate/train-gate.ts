// Training g_φ with the policy frozen: trial answers labelled right or wrong against the ground
// truth, class-balanced binary cross entropy (each class weighs half, as sklearn's
// class_weight="balanced"), full-batch AdamW. Trial answers are cheap to collect and few, so the
// whole set is one batch.
import { optim, type Tensor, tensor, tidy } from "@sr2se/tensor";
import type { TrialStep } from "../trials/trials.js";
import { type GateConfig, GateHead, gateFeatures, SCALAR_FEATURES } from "./gate-head.js";

/** Options of gate training. */
export interface TrainGateOptions {
  /** Hidden layer width; 0 for a linear probe (default 32). */
  mlpHidden?: number;
  /** Full-batch steps (default 400). */
  steps?: number;
  lr?: number;
  weightDecay?: number;
  seed?: number;
  /** The default threshold stored with the gate (default 0.8). */
  tau?: number;
}

/** Returns the class-balanced BCE of logits [N] against labels (mean over the set; each class weighs half). */
export function balancedBce(logits: Tensor, labels: readonly boolean[]): Tensor {
  const n = labels.length;
  const pos = labels.filter(Boolean).length;
  const neg = n - pos;
  const w = Float32Array.from(labels, (y) => (y ? n / (2 * Math.max(pos, 1)) : n / (2 * Math.max(neg, 1))));
  const y = Float32Array.from(labels, (l) => (l ? 1 : 0));
  // BCE with logits: softplus(z) − y·z
  return logits
    .softplus()
    .sub(logits.mul(tensor(y)))
    .mul(tensor(w))
    .mean();
}

/** Returns a gate trained on trial answers and whether each was right; the policy is not touched. */
export async function trainGate(
  steps: readonly TrialStep[],
  correct: readonly boolean[],
  opts: TrainGateOptions = {},
): Promise<{ gate: GateHead; loss: number }> {
  if (steps.length === 0) throw new Error("trainGate: no trial answers");
  if (steps.length !== correct.length)
    throw new Error(`trainGate: ${steps.length} trial answers but ${correct.length} labels`);
  const raw = steps.map(gateFeatures);
  const F = raw[0].length;
  const mean = new Array<number>(F).fill(0);
  const std = new Array<number>(F).fill(0);
  for (const f of raw) for (let j = 0; j < F; j++) mean[j] += f[j] / raw.length;
  for (const f of raw) for (let j = 0; j < F; j++) std[j] += (f[j] - mean[j]) ** 2 / raw.length;
  const config: GateConfig = {
    hidden_size: F - SCALAR_FEATURES.length,
    mlp_hidden: opts.mlpHidden ?? 32,
    feature_names: [
      ...Array.from({ length: F - SCALAR_FEATURES.length }, (_, j) => `hidden_${j}`),
      ...SCALAR_FEATURES,
    ],
    feature_mean: mean,
    feature_std: std.map((v) => Math.max(Math.sqrt(v), 1e-6)),
    tau: opts.tau ?? 0.8,
  };
  const gate = new GateHead(config, opts.seed ?? 0);
  const x = gate.inputs(steps);
  const optimizer = new optim.AdamW(gate.parameters(), {
    lr: opts.lr ?? 3e-3,
    weightDecay: opts.weightDecay ?? 0.01,
  });
  let loss = Number.NaN;
  const total = opts.steps ?? 400;
  for (let s = 0; s < total; s++) {
    const l = tidy(() => {
      const value = balancedBce(gate.forward(x), correct);
      value.backward();
      return value.detach();
    });
    if (s === total - 1) loss = await l.item();
    l.dispose();
    optimizer.step();
    optimizer.zeroGrad();
  }
  x.dispose();
  return { gate, loss };
}
