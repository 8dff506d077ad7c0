// Validation during SFT: loss on held-out samples, and what the model answers when it generates:
// the share of responses in the right format and the share whose boxed answer is right.
import { parseResponse, type Sample } from "@sr2se/core";
import { noGrad, tidy } from "@sr2se/tensor";
import type { SequenceInput } from "../data/batch.js";
import type { VLM } from "../vlm.js";
import type { TrainExample } from "./examples.js";

/** Returns whether a predicted answer equals the gold one for its answer type (case, spaces and a final period ignored). */
export function answerMatches(predicted: string | null, gold: string, type?: string): boolean {
  if (predicted === null) return false;
  const norm = (s: string) => s.trim().toLowerCase().replace(/\.$/, "").trim();
  const p = norm(predicted);
  const g = norm(gold);
  if (type === "integer" || type === "float") {
    const a = Number(p);
    const b = Number(g);
    return Number.isFinite(a) && Number.isFinite(b) && Math.abs(a - b) <= (type === "float" ? 1e-6 : 0);
  }
  if (type === "choice") return p.replace(/^\(?([a-z])\)?.*$/, "$1") === g.replace(/^\(?([a-z])\)?.*$/, "$1");
  return p === g;
}

/** Validation figures. */
export interface Validation {
  val_loss: number;
  val_accuracy: number;
  val_format: number;
}

/** Returns validation loss over examples and answer accuracy and format rate of greedy generations. */
export async function validate(
  vlm: VLM,
  samples: Sample[],
  examples: TrainExample[],
  pixels: (i: number) => Promise<Float32Array>,
  opts: { batchSize: number; maxTokens: number },
): Promise<Validation> {
  let lossSum = 0;
  let tokens = 0;
  for (let s = 0; s < examples.length; s += opts.batchSize) {
    const chunk = examples.slice(s, s + opts.batchSize);
    const seqs: SequenceInput[] = await Promise.all(
      chunk.map(async (e) => ({ ids: e.ids, labels: e.labels, pixels: await pixels(e.sample) })),
    );
    const { value, n } = noGrad(() =>
      tidy(() => {
        const { loss, tokens } = vlm.loss(seqs);
        return { value: loss.mul(tokens), n: tokens };
      }),
    );
    lossSum += await value.item();
    value.dispose();
    tokens += n;
  }
  let right = 0;
  let formatted = 0;
  const requests = await Promise.all(
    examples.map(async (e) => ({
      pixels: await pixels(e.sample),
      messages: [{ role: "user" as const, content: samples[e.sample].question }],
    })),
  );
  const gens = await vlm.generateFromPixels(requests, { maxTokens: opts.maxTokens, batchSize: 32 });
  gens.forEach((g, i) => {
    const sample = samples[examples[i].sample];
    const parsed = parseResponse(g.text);
    if (parsed.formatOk) formatted++;
    if (answerMatches(parsed.answer, sample.answer, sample.answer_type)) right++;
  });
  const n = Math.max(1, examples.length);
  return { val_loss: lossSum / Math.max(1, tokens), val_accuracy: right / n, val_format: formatted / n };
}
