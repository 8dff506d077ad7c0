/** Returns a 32-bit generator (mulberry32) seeded from the integers given. */
function generator(...keys: number[]): () => number {
  let s = 0x9e3779b9;
  for (const k of keys) s = Math.imul(s ^ (k >>> 0), 0x85ebca6b) ^ (s >>> 13);
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Returns the order of n items in an epoch: a seeded shuffle, the same for the same (seed, epoch). */
export function epochOrder(n: number, seed: number, epoch: number, shuffle = true): Uint32Array {
  const order = Uint32Array.from({ length: n }, (_, i) => i);
  if (!shuffle) return order;
  const rand = generator(seed, epoch);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  return order;
}

/**
 * Returns the epoch and item indices of micro-batch number `micro` (0-based, counted over the whole
 * run), so a resumed run knows its next batch from the step count alone. The last batch of an epoch
 * may be smaller.
 */
export function microBatch(
  n: number,
  batchSize: number,
  micro: number,
  seed: number,
  shuffle = true,
): { epoch: number; indices: number[] } {
  const perEpoch = Math.ceil(n / batchSize);
  const epoch = Math.floor(micro / perEpoch);
  const k = micro % perEpoch;
  const order = epochOrder(n, seed, epoch, shuffle);
  return { epoch, indices: Array.from(order.subarray(k * batchSize, Math.min(n, (k + 1) * batchSize))) };
}
