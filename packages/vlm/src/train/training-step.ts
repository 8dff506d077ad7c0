// The two halves of a trainer's step that every trainer of the model shares: the loss's backward
// pass, and the global gradient norm clipped on the device before the optimizer steps.
import { optim, type Tensor, tidy } from "@sr2se/tensor";
import type { SequenceInput } from "../data/batch.js";
import type { VLM } from "../vlm.js";

/** Returns the model's loss on `seqs` (a number), its backward pass having added to the gradients. */
export async function backwardLoss(vlm: VLM, seqs: SequenceInput[]): Promise<number> {
  const lossT = tidy(() => {
    const { loss } = vlm.loss(seqs);
    loss.backward();
    return loss.detach();
  });
  const loss = await lossT.item();
  lossT.dispose();
  return loss;
}

/** Returns the global gradient norm of `params` before clipping, having clipped it to `maxNorm` (≤ 0: no clip). */
export async function clipGradients(params: Tensor[], maxNorm: number): Promise<number> {
  const normT = optim.clipGradNorm(params, maxNorm > 0 ? maxNorm : Number.POSITIVE_INFINITY);
  const norm = await normT.item();
  normT.dispose();
  return norm;
}
