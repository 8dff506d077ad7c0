import { type Tensor, tensor, tidy } from "@sr2se/tensor";
import type { Values } from "../objective/batch.js";
import { type DpoLossOptions, type DpoLossResult, dpoLoss } from "../objective/dpo-loss.js";

/** The log-probs of a batch of pairs for `dpoLossTensor`: the policy's as tensors [B] in the graph. */
export interface PreferenceTensors {
  policyChosen: Tensor;
  policyRejected: Tensor;
  /** Constants: tensors (read, not differentiated) or arrays. */
  referenceChosen?: Tensor | Values;
  referenceRejected?: Tensor | Values;
  chosenLengths?: Tensor | Values;
  rejectedLengths?: Tensor | Values;
  weights?: Tensor | Values;
}

async function values(x: Tensor | Values | undefined): Promise<Values | undefined> {
  if (x === undefined) return undefined;
  if (typeof (x as Tensor).data === "function") return (await (x as Tensor).data()) as Values;
  return x as Values;
}

/**
 * Returns the SR-DPO objective as a differentiable scalar tensor (`loss`) together with the full
 * `dpoLoss` result (values, rewards, metrics) computed in float64. `loss.backward()` sends exactly
 * the closed-form gradients of `dpoLoss` into `policyChosen` and `policyRejected`: the tensor is
 * Σ g_c·policyChosen + Σ g_r·policyRejected + c with g and c constants, whose value is the loss.
 */
export async function dpoLossTensor(
  batch: PreferenceTensors,
  options: DpoLossOptions = {},
): Promise<{ loss: Tensor; result: DpoLossResult }> {
  const { policyChosen, policyRejected } = batch;
  for (const [name, x] of [
    ["policyChosen", policyChosen],
    ["policyRejected", policyRejected],
  ] as const) {
    if (x.ndim !== 1)
      throw new Error(`dpoLossTensor: batch.${name} must be 1-D [B], got [${x.shape.join(", ")}]`);
  }
  const pc = (await policyChosen.data()) as Values;
  const pr = (await policyRejected.data()) as Values;
  const result = dpoLoss(
    {
      policyChosen: pc,
      policyRejected: pr,
      referenceChosen: await values(batch.referenceChosen),
      referenceRejected: await values(batch.referenceRejected),
      chosenLengths: await values(batch.chosenLengths),
      rejectedLengths: await values(batch.rejectedLengths),
      weights: await values(batch.weights),
    },
    options,
  );
  const { policyChosen: gc, policyRejected: gr } = result.grad;
  let offset = result.loss;
  for (let i = 0; i < gc.length; i++) offset -= gc[i] * pc[i] + gr[i] * pr[i];
  const loss = tidy(() => {
    const opts = { dtype: policyChosen.dtype, device: policyChosen.backend.name };
    const cc = tensor(gc, opts);
    const cr = tensor(gr, opts);
    return policyChosen.mul(cc).sum().add(policyRejected.mul(cr).sum()).add(offset);
  });
  return { loss, result };
}
