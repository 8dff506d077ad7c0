/** One part of a dataset split over `count` machines: part `index` (0-based). */
export interface Shard {
  index: number;
  count: number;
}

/** Parses `i/N` (0 ≤ i < N) into a shard; throws naming the flag value when it is not one. */
export function parseShard(text: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!m) throw new Error(`--shard "${text}": expected i/N, e.g. 0/4`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1) throw new Error(`--shard "${text}": N must be at least 1`);
  if (index >= count) throw new Error(`--shard "${text}": i must be in 0..${count - 1}`);
  return { index, count };
}

/**
 * Returns the shard a sample id belongs to: FNV-1a of the id modulo `count`. It depends on the id
 * alone, so every machine agrees whatever the order of the file, and a resumed run keeps its part.
 */
export function shardOf(id: string, count: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % count;
}

/** Returns true when the sample id falls in `shard` (always true without one). */
export function inShard(id: string, shard: Shard | undefined): boolean {
  return shard === undefined || shard.count === 1 || shardOf(id, shard.count) === shard.index;
}
