// verl's actor loss on a tensor graph: the policy's per-token log-probs come from the model, the loss
// and its gradient with respect to them from `actorLoss` (verl-exact, on the host), and the gradient
// goes back into the graph as the surrogate Σ grad · logProbs, whose derivative is exactly that.
import { type Tensor, tensor, tidy } from "@sr2se/tensor";
import { type ActorLossOptions, type ActorMetrics, actorLoss } from "../objective/actor-loss.js";
import type { Matrix } from "../objective/validate.js";

/** What the actor update needs beside the policy's log-probs: rows are responses, columns response tokens. */
export interface ActorTargets {
  oldLogProbs: Matrix;
  advantages: Matrix;
  responseMask: Matrix;
  refLogProbs?: Matrix;
}

/** The result of `actorLossTensor`. */
export interface ActorLossTensor {
  /** A scalar whose gradient with respect to `logProbs` is ∂loss/∂logProbs; call `backward()` on it. */
  surrogate: Tensor;
  /** verl's loss value, (pgLoss + klCoef · klLoss) / gradientAccumulation. */
  loss: number;
  metrics: ActorMetrics;
  /** The policy's log-probs as numbers (what `actorLoss` saw). */
  logProbs: number[][];
}

/** Returns the rows of a [B, T] tensor as number arrays. */
export async function rowsOf(t: Tensor): Promise<number[][]> {
  if (t.ndim !== 2) throw new Error(`rowsOf: expected a [rows, tokens] tensor, got [${t.shape.join(", ")}]`);
  const [B, T] = t.shape;
  const data = await t.data();
  return Array.from({ length: B }, (_, b) => Array.from(data.subarray(b * T, (b + 1) * T)));
}

/**
 * Returns verl's actor loss for one micro-batch with a surrogate that carries its exact gradient into
 * the graph of `logProbs` ([B, T], differentiable). The caller disposes the surrogate.
 */
export async function actorLossTensor(
  logProbs: Tensor,
  targets: ActorTargets,
  options: ActorLossOptions = {},
): Promise<ActorLossTensor> {
  const values = await rowsOf(logProbs);
  const { loss, grad, metrics } = actorLoss({ ...targets, logProbs: values }, options);
  const [B, T] = logProbs.shape;
  const g = new Float32Array(B * T);
  for (const [b, row] of grad.entries()) g.set(row, b * T);
  // tidy: the weights and the product go now (backward keeps what it needs)
  const surrogate = tidy(() => logProbs.mul(tensor(g, { shape: [B, T] })).sum());
  return { surrogate, loss, metrics, logProbs: values };
}
