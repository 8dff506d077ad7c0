import { type Tensor, tidy } from "@sr2se/tensor";

/** Summed and mean log-probabilities of each sequence's completion tokens. */
export interface SequenceLogProbs {
  /** Σ_t mask·log p(label_t) per sequence, [B]: what `dpoLoss` calls a sequence log-prob. */
  sum: Tensor;
  /** `sum` divided by the token count (1 when a sequence has no completion token), [B]. */
  mean: Tensor;
  /** The completion token count per sequence, [B]. */
  tokens: Tensor;
}

/**
 * Returns the summed and mean log-probs of `labels` [B, T] (int32) under `logits` [B, T, V], over
 * the positions where `mask` [B, T] is non-zero (the completion; prompt and padding masked).
 * `logits[:, t]` must already predict `labels[:, t]` (shift before calling). Each token's log-prob is
 * `logits[label] − logSumExp(logits)`: the full log-softmax [B, T, V] is never materialized, and the
 * backward pass forms the softmax once.
 */
export function sequenceLogProbs(logits: Tensor, labels: Tensor, mask: Tensor): SequenceLogProbs {
  const fn = "sequenceLogProbs";
  if (logits.ndim !== 3) throw new Error(`${fn}: logits must be [B, T, V], got [${logits.shape.join(", ")}]`);
  const [b, t] = logits.shape;
  for (const [name, x] of [
    ["labels", labels],
    ["mask", mask],
  ] as const) {
    if (x.ndim !== 2 || x.shape[0] !== b || x.shape[1] !== t) {
      throw new Error(
        `${fn}: ${name} must be [${b}, ${t}] like logits [${logits.shape.join(", ")}], got [${x.shape.join(", ")}]`,
      );
    }
  }
  if (labels.dtype !== "int32") throw new Error(`${fn}: labels must be int32, got ${labels.dtype}`);
  return tidy(() => {
    const m = mask.to(logits.dtype);
    // Masked positions may hold any id (e.g. −100): point them at 0 so the gather stays in range.
    const safeLabels = labels.maskedFill(m.eq(0), 0);
    const picked = logits.gather(2, safeLabels.unsqueeze(2)).squeeze(2);
    const tokenLogProbs = picked.sub(logits.logSumExp(2));
    const sum = tokenLogProbs.mul(m).sum(1);
    const tokens = m.sum(1);
    const mean = sum.div(tokens.clamp(1));
    return { sum, mean, tokens };
  });
}
