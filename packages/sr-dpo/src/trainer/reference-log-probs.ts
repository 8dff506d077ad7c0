import { type PreferencePair, readPreferencePairs, writeFileAtomic } from "@sr2se/core";
import { completionRequests, disposeScored, type SequenceScorer, scoreWithoutGrad } from "./trainer.js";

/**
 * Scores every pair of `pairsFile` once with the frozen reference and writes the pairs to `outFile`
 * with `meta.ref_chosen_logps` and `meta.ref_rejected_logps` added (TRL's precompute_ref_log_probs),
 * so training needs no reference model in memory. Returns the number of pairs written.
 */
export async function precomputeReferenceLogProbs(
  reference: SequenceScorer,
  pairsFile: string,
  outFile: string,
  options: { batchSize?: number } = {},
): Promise<number> {
  const batchSize = options.batchSize ?? 16;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(
      `precomputeReferenceLogProbs: options.batchSize is ${batchSize}; it must be an integer >= 1`,
    );
  }
  const records = await readPreferencePairs(pairsFile);
  const lines: string[] = [];
  for (let start = 0; start < records.length; start += batchSize) {
    const batch = records.slice(start, start + batchSize);
    const n = batch.length;
    const requests = completionRequests(batch.map(({ pair }) => pair));
    const scored = await scoreWithoutGrad(reference, requests);
    const sums = (await scored.sum.data()) as ArrayLike<number>;
    disposeScored(scored);
    if (sums.length !== 2 * n) {
      throw new Error(
        `precomputeReferenceLogProbs: the reference scored ${sums.length} completions for ${2 * n} requests`,
      );
    }
    batch.forEach(({ pair }, i) => {
      const out: PreferencePair = {
        ...pair,
        meta: { ...pair.meta, ref_chosen_logps: sums[i], ref_rejected_logps: sums[n + i] },
      };
      lines.push(JSON.stringify(out));
    });
  }
  await writeFileAtomic(outFile, `${lines.join("\n")}\n`);
  return lines.length;
}
