// Picking the next token from a row of logits on the host: greedy, or sampling with temperature,
// top-k and top-p (nucleus) from a seeded generator.
import type { Rng } from "@sr2se/core";

/** How the next token is chosen. temperature 0 (the default) is greedy decoding. */
export interface SamplingOptions {
  temperature?: number;
  topK?: number;
  topP?: number;
}

/** Returns the index of the largest value (the first, on ties). */
export function argmax(row: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
  return best;
}

/** Returns log-softmax(row)[index], computed stably. */
export function logSoftmaxAt(row: ArrayLike<number>, index: number): number {
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < row.length; i++) if (row[i] > max) max = row[i];
  let sum = 0;
  for (let i = 0; i < row.length; i++) sum += Math.exp(row[i] - max);
  return row[index] - max - Math.log(sum);
}

/** Returns the entropy (nats) of softmax(row). */
export function entropyOf(row: ArrayLike<number>): number {
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < row.length; i++) if (row[i] > max) max = row[i];
  let sum = 0;
  let weighted = 0;
  for (let i = 0; i < row.length; i++) {
    const e = Math.exp(row[i] - max);
    sum += e;
    weighted += e * (row[i] - max);
  }
  return Math.log(sum) - weighted / sum;
}

/** Returns the k likeliest tokens of a row of logits with their log-softmax values, likeliest first. */
export function topLogprobs(row: ArrayLike<number>, k: number): { id: number; logprob: number }[] {
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < row.length; i++) if (row[i] > max) max = row[i];
  let sum = 0;
  for (let i = 0; i < row.length; i++) sum += Math.exp(row[i] - max);
  const norm = max + Math.log(sum);
  const best: number[] = [];
  for (let i = 0; i < row.length; i++) {
    if (best.length === k && row[i] <= row[best[k - 1]]) continue;
    let j = best.length === k ? k - 1 : best.length;
    while (j > 0 && row[best[j - 1]] < row[i]) j--;
    best.splice(j, 0, i);
    if (best.length > k) best.pop();
  }
  return best.map((id) => ({ id, logprob: row[id] - norm }));
}

/** Returns the next token id drawn from one row of logits. */
export function sampleToken(row: ArrayLike<number>, opts: SamplingOptions, rng: Rng): number {
  const temperature = opts.temperature ?? 0;
  if (temperature <= 0) return argmax(row);
  const V = row.length;
  let order = Array.from({ length: V }, (_, i) => i).sort((a, b) => row[b] - row[a]);
  if (opts.topK !== undefined && opts.topK > 0) order = order.slice(0, opts.topK);
  const max = row[order[0]];
  const probs = order.map((i) => Math.exp((row[i] - max) / temperature));
  const total = probs.reduce((a, b) => a + b, 0);
  let keep = order.length;
  if (opts.topP !== undefined && opts.topP < 1) {
    let acc = 0;
    for (let j = 0; j < order.length; j++) {
      acc += probs[j] / total;
      if (acc >= opts.topP) {
        keep = j + 1;
        break;
      }
    }
  }
  const kept = probs.slice(0, keep);
  const mass = kept.reduce((a, b) => a + b, 0);
  let u = rng.next() * mass;
  for (let j = 0; j < keep; j++) {
    u -= kept[j];
    if (u <= 0) return order[j];
  }
  return order[keep - 1];
}
